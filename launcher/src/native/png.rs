//! The session's framebuffer as a PNG file.

use std::io::Write;
use std::path::Path;

use ironrdp_session::image::DecodedImage;

/// A copy of the framebuffer: RGBA, 8 bits per channel, rows top to bottom.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes.
    pub rgba: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame {}x{}", self.width, self.height)
    }
}

impl Frame {
    /// Copies the session's image (IronRDP decodes into RGBA32; the alpha channel is not meaningful and is
    /// written opaque).
    pub fn of(image: &DecodedImage) -> Frame {
        let (width, height) = (u32::from(image.width()), u32::from(image.height()));
        let row = width as usize * 4;
        let mut rgba = Vec::with_capacity(row * height as usize);
        for y in 0..height as usize {
            let start = y * image.stride();
            rgba.extend_from_slice(&image.data()[start..start + row]);
        }
        for px in rgba.chunks_exact_mut(4) {
            px[3] = 0xff;
        }
        Frame { width, height, rgba }
    }

    /// How many distinct colours the frame has, counting up to `limit` (a blank screen has one).
    pub fn colours(&self, limit: usize) -> usize {
        let mut seen = std::collections::HashSet::new();
        for px in self.rgba.chunks_exact(4) {
            seen.insert([px[0], px[1], px[2]]);
            if seen.len() >= limit {
                break;
            }
        }
        seen.len()
    }

    /// Encodes as PNG.
    pub fn encode(&self, out: impl Write) -> Result<(), png::EncodingError> {
        let mut enc = png::Encoder::new(out, self.width, self.height);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut w = enc.write_header()?;
        w.write_image_data(&self.rgba)?;
        w.finish()
    }

    /// Writes the PNG file, owner-only and atomically ([`rdpl_profiles::files::write_atomic`]: a temporary
    /// file beside it, then renamed), so a half-written PNG is never left.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut png = Vec::new();
        self.encode(&mut png).map_err(std::io::Error::other)?;
        rdpl_profiles::files::write_atomic(path, &png).map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_through_png() {
        let mut rgba = Vec::new();
        for i in 0u8..12 {
            rgba.extend_from_slice(&[i, 255 - i, i / 2, 255]);
        }
        let f = Frame {
            width: 4,
            height: 3,
            rgba,
        };
        let mut buf = Vec::new();
        f.encode(&mut buf).expect("encode");
        let dec = png::Decoder::new(std::io::Cursor::new(buf));
        let mut r = dec.read_info().expect("png header");
        let mut out = vec![0; r.output_buffer_size().expect("size")];
        let info = r.next_frame(&mut out).expect("frame");
        assert_eq!((info.width, info.height), (4, 3));
        assert_eq!(&out[..info.buffer_size()], &f.rgba[..]);
        assert_eq!(f.colours(100), 12);
    }

    #[test]
    fn save_writes_the_png_owner_only_and_leaves_nothing_else() {
        let f = Frame {
            width: 2,
            height: 1,
            rgba: vec![1, 2, 3, 255, 4, 5, 6, 255],
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shot.png");
        f.save(&path).expect("save");
        let bytes = std::fs::read(&path).expect("read");
        assert!(bytes.starts_with(b"\x89PNG"));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["shot.png"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
