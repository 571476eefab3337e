//! The active session: read a PDU, let IronRDP's `ActiveStage` decode it into the framebuffer, write its
//! responses; send input; follow a Deactivation-Reactivation Sequence (a resize); disconnect cleanly.
//!
//! Reading ([`Session::read`]) is cancel-safe (IronRDP's framed reader keeps partial PDUs in its buffer), so a
//! frontend can wait on the network and on user input at once; processing and writing are separate calls.

use std::time::{Duration, Instant};

use ironrdp_connector::DesktopSize;
use ironrdp_connector::connection_activation::{
    ConnectionActivationFactory, ConnectionActivationSequence, ConnectionActivationState,
};
use ironrdp_core::WriteBuf;
use ironrdp_graphics::image_processing::PixelFormat;
use ironrdp_pdu::Action;
use ironrdp_pdu::geometry::InclusiveRectangle;
use ironrdp_pdu::input::fast_path::FastPathInputEvent;
use ironrdp_session::image::DecodedImage;
use ironrdp_session::{ActiveStage, ActiveStageBuilder, ActiveStageOutput, GracefulDisconnectReason};
use ironrdp_tokio::bytes::BytesMut;
use ironrdp_tokio::{FramedWrite as _, TokioFramed, split_tokio_framed};
use tokio::io::{ReadHalf, WriteHalf};

use super::connect::{Connected, Tls};
use super::failure::FromConnector as _;
use rdpl_core::login::{Failure, FailureKind, Stage, errinfo_of};

/// How the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// In words.
    pub reason: String,
    /// The ERRINFO code, when the server sent one.
    pub errinfo: Option<u32>,
    /// Whether the user (rdpl) ended it.
    pub by_user: bool,
}

impl Ended {
    /// The failure this end means, if it is one (a user's disconnect is not; a server's is, before the first
    /// frame or with an ERRINFO code that is not a plain logoff/disconnect).
    pub fn failure(&self) -> Option<Failure> {
        if self.by_user {
            return None;
        }
        Some(Failure::new(
            Stage::Session,
            FailureKind::Disconnected(self.errinfo),
            self.reason.clone(),
        ))
    }
}

/// What one processed PDU changed.
#[derive(Debug, Default)]
pub struct Update {
    /// The area of the framebuffer that was redrawn (the union of the PDU's updates).
    pub drawn: Option<InclusiveRectangle>,
    /// The desktop was resized (a reactivation finished): the framebuffer has this new size.
    pub resized: Option<(u16, u16)>,
    /// The session ended.
    pub ended: Option<Ended>,
}

/// A running session.
pub struct Session {
    stage: ActiveStage,
    reader: TokioFramed<ReadHalf<Tls>>,
    writer: TokioFramed<WriteHalf<Tls>>,
    image: DecodedImage,
    activation: ConnectionActivationFactory,
    /// Whether the server accepts Display Control (resize without reconnecting).
    pub started: Instant,
    frames: u64,
    first_frame: Option<Duration>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("size", &(self.image.width(), self.image.height()))
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Starts the active stage on an established connection.
    pub fn new(c: Connected) -> Session {
        let r = c.result;
        let image = DecodedImage::new(PixelFormat::RgbA32, r.desktop_size.width, r.desktop_size.height);
        let stage = ActiveStageBuilder {
            static_channels: r.static_channels,
            user_channel_id: r.user_channel_id,
            io_channel_id: r.io_channel_id,
            message_channel_id: r.message_channel_id,
            share_id: r.share_id,
            compression_type: r.compression_type,
            enable_server_pointer: r.enable_server_pointer,
            pointer_software_rendering: r.pointer_software_rendering,
        }
        .build();
        let (reader, writer) = split_tokio_framed(c.framed);
        Session {
            stage,
            reader,
            writer,
            image,
            activation: r.activation_factory,
            started: Instant::now(),
            frames: 0,
            first_frame: None,
        }
    }

    /// The framebuffer (RGBA, `width * 4` bytes per row).
    pub fn image(&self) -> &DecodedImage {
        &self.image
    }

    /// Time from the start of the active stage to the first drawn update.
    pub fn first_frame(&self) -> Option<Duration> {
        self.first_frame
    }

    /// Waits for the next PDU. Cancel-safe.
    pub async fn read(&mut self) -> Result<(Action, BytesMut), Failure> {
        self.reader
            .read_pdu()
            .await
            .map_err(|e| Failure::io(Stage::Session, "reading from the server", &e))
    }

    /// Processes one PDU from [`Session::read`].
    pub async fn process(&mut self, action: Action, frame: &[u8]) -> Result<Update, Failure> {
        let outputs = self
            .stage
            .process(&mut self.image, action, frame, None)
            .map_err(|e| session_failure("processing the server's data", &e))?;
        let mut update = Update::default();
        for out in outputs {
            match out {
                ActiveStageOutput::ResponseFrame(frame) => self.write(&frame).await?,
                ActiveStageOutput::GraphicsUpdate(r) => {
                    self.frames += 1;
                    if self.first_frame.is_none() {
                        self.first_frame = Some(self.started.elapsed());
                    }
                    update.drawn = Some(match update.drawn.take() {
                        None => r,
                        Some(u) => union(&u, &r),
                    });
                }
                ActiveStageOutput::Terminate(reason) => {
                    update.ended = Some(ended(&reason));
                }
                ActiveStageOutput::DeactivateAll => {
                    let size = self.reactivate().await?;
                    update.resized = Some(size);
                }
                _ => {}
            }
        }
        Ok(update)
    }

    /// Sends input events (keyboard scancodes, mouse).
    pub async fn input(&mut self, events: &[FastPathInputEvent]) -> Result<(), Failure> {
        let outputs = self
            .stage
            .process_fastpath_input(&mut self.image, events)
            .map_err(|e| session_failure("encoding input", &e))?;
        for out in outputs {
            if let ActiveStageOutput::ResponseFrame(frame) = out {
                self.write(&frame).await?;
            }
        }
        Ok(())
    }

    /// Asks the server for a new desktop size (Display Control). `false` when the server does not support it.
    pub async fn resize(&mut self, width: u32, height: u32) -> Result<bool, Failure> {
        let Some(frame) = self.stage.encode_resize(width, height, None, None) else {
            return Ok(false);
        };
        let frame = frame.map_err(|e| session_failure("encoding the resize request", &e))?;
        self.write(&frame).await?;
        Ok(true)
    }

    /// Ends the session: the graceful shutdown request, then the transport is closed.
    pub async fn disconnect(&mut self) {
        if let Ok(outputs) = self.stage.graceful_shutdown() {
            for out in outputs {
                if let ActiveStageOutput::ResponseFrame(frame) = out {
                    let _ = self.write(&frame).await;
                }
            }
        }
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            use tokio::io::AsyncWriteExt as _;
            let (stream, _) = self.writer.get_inner_mut();
            stream.shutdown().await
        })
        .await;
    }

    async fn write(&mut self, frame: &[u8]) -> Result<(), Failure> {
        self.writer
            .write_all(frame)
            .await
            .map_err(|e| Failure::io(Stage::Session, "writing to the server", &e))
    }

    /// The Deactivation-Reactivation Sequence ([MS-RDPBCGR] 1.3.1.3): capabilities again, possibly a new size.
    async fn reactivate(&mut self) -> Result<(u16, u16), Failure> {
        let mut seq: ConnectionActivationSequence = self.activation.create();
        let mut buf = WriteBuf::new();
        loop {
            let written = ironrdp_tokio::single_sequence_step_read(&mut self.reader, &mut seq, &mut buf)
                .await
                .map_err(|e| Failure::connector(Stage::Finalization, &e))?;
            if written.size().is_some() {
                self.write(buf.filled()).await?;
            }
            buf.clear();
            if let ConnectionActivationState::Finalized {
                desktop_size: DesktopSize { width, height },
                share_id,
                enable_server_pointer,
                pointer_software_rendering,
                static_channel_chunk_size,
                ..
            } = seq.connection_activation_state()
            {
                self.image = DecodedImage::new(PixelFormat::RgbA32, width, height);
                if !self.stage.reactivate(
                    seq.io_channel_id(),
                    seq.user_channel_id(),
                    share_id,
                    enable_server_pointer,
                    pointer_software_rendering,
                    static_channel_chunk_size,
                ) {
                    return Err(Failure::new(
                        Stage::Finalization,
                        FailureKind::Protocol,
                        "the server's virtual channel chunk size is invalid",
                    ));
                }
                return Ok((width, height));
            }
        }
    }
}

fn ended(reason: &GracefulDisconnectReason) -> Ended {
    match reason {
        GracefulDisconnectReason::UserInitiated => Ended {
            reason: reason.description(),
            errinfo: None,
            by_user: true,
        },
        GracefulDisconnectReason::ServerInitiated => Ended {
            reason: reason.description(),
            errinfo: None,
            by_user: false,
        },
        GracefulDisconnectReason::Other(text) => Ended {
            reason: text.clone(),
            errinfo: errinfo_of(text),
            by_user: false,
        },
    }
}

fn union(a: &InclusiveRectangle, b: &InclusiveRectangle) -> InclusiveRectangle {
    InclusiveRectangle {
        left: a.left.min(b.left),
        top: a.top.min(b.top),
        right: a.right.max(b.right),
        bottom: a.bottom.max(b.bottom),
    }
}

fn session_failure(what: &str, e: &ironrdp_session::SessionError) -> Failure {
    Failure::new(Stage::Session, FailureKind::Protocol, format!("{what}: {e}"))
}
