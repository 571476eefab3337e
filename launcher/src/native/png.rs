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

    /// Writes the PNG file: to a temporary file beside it, then renamed, so a half-written PNG is never left.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        rdpl_profiles::private::restrict(tmp.path())?;
        self.encode(std::io::BufWriter::new(tmp.as_file_mut()))
            .map_err(std::io::Error::other)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
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
}
