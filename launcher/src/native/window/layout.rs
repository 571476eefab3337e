//! Where the desktop goes in the window, and its pixels: the letterbox and scale geometry ([`Layout`]), the
//! window position -> desktop position mapping for the mouse, the nearest-neighbour [`blit`], the shared
//! [`Frame`] in softbuffer's `0x00RRGGBB` format, and the desktop size to ask Display Control for.
//!
//! Pure: no winit, no tokio, no I/O; numbers and slices in, numbers and slices out.

use ironrdp_pdu::geometry::InclusiveRectangle;
use ironrdp_session::image::DecodedImage;

/// The framebuffer the window draws from, in softbuffer's format (`0x00RRGGBB`), with the region drawn since
/// the window last took it.
#[derive(Debug)]
pub(super) struct Frame {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) pixels: Vec<u32>,
    pub(super) dirty: Option<Rect>,
}

impl Frame {
    pub(super) fn new(width: u16, height: u16) -> Frame {
        let (width, height) = (u32::from(width), u32::from(height));
        Frame {
            width,
            height,
            pixels: vec![0; px(width) * px(height)],
            dirty: None,
        }
    }

    /// Copies `area` of the session's image (all of it when the size changed or `area` is `None`).
    pub(super) fn copy_from(&mut self, image: &DecodedImage, area: Option<&InclusiveRectangle>) {
        let (w, h) = (u32::from(image.width()), u32::from(image.height()));
        let rect = match area {
            Some(r) if (w, h) == (self.width, self.height) => Rect::from_inclusive(r).clip(w, h),
            _ => {
                *self = Frame {
                    width: w,
                    height: h,
                    pixels: vec![0; px(w) * px(h)],
                    dirty: None,
                };
                Rect { x: 0, y: 0, w, h }
            }
        };
        if rect.is_empty() {
            return;
        }
        rgba_to_0rgb(image.data(), image.stride(), w, rect, &mut self.pixels);
        self.dirty = Some(match self.dirty {
            Some(d) => d.union(rect),
            None => rect,
        });
    }
}

/// The desktop size to ask for a window size: Display Control wants 200..=8192 and an even width.
pub(super) fn desktop_size_for(w: u32, h: u32) -> (u32, u32) {
    ironrdp_displaycontrol::pdu::MonitorLayoutEntry::adjust_display_size(w, h)
}

/// A rectangle, exclusive of its right and bottom edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rect {
    pub(super) x: u32,
    pub(super) y: u32,
    pub(super) w: u32,
    pub(super) h: u32,
}

impl Rect {
    fn from_inclusive(r: &InclusiveRectangle) -> Rect {
        let (x, y) = (u32::from(r.left), u32::from(r.top));
        Rect {
            x,
            y,
            w: (u32::from(r.right) + 1).saturating_sub(x),
            h: (u32::from(r.bottom) + 1).saturating_sub(y),
        }
    }

    fn is_empty(self) -> bool {
        self.w == 0 || self.h == 0
    }

    fn right(self) -> u32 {
        self.x + self.w
    }

    fn bottom(self) -> u32 {
        self.y + self.h
    }

    fn clip(self, w: u32, h: u32) -> Rect {
        let (x, y) = (self.x.min(w), self.y.min(h));
        Rect {
            x,
            y,
            w: self.right().min(w) - x,
            h: self.bottom().min(h) - y,
        }
    }

    fn union(self, o: Rect) -> Rect {
        let (x, y) = (self.x.min(o.x), self.y.min(o.y));
        Rect {
            x,
            y,
            w: self.right().max(o.right()) - x,
            h: self.bottom().max(o.bottom()) - y,
        }
    }
}

/// Where the desktop goes in the window: 1:1 and centred (letterboxed) when it fits, else scaled down to fit,
/// keeping its aspect ratio, centred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Layout {
    src: (u32, u32),
    win: (u32, u32),
    dst: Rect,
}

impl Layout {
    pub(super) fn fit(src: (u32, u32), win: (u32, u32)) -> Layout {
        let (sw, sh) = src;
        let (ww, wh) = win;
        let (dw, dh) = if sw == 0 || sh == 0 || ww == 0 || wh == 0 {
            (0, 0)
        } else if sw <= ww && sh <= wh {
            (sw, sh)
        } else if u64::from(sw) * u64::from(wh) <= u64::from(ww) * u64::from(sh) {
            // Height-bound.
            (scale(sw, wh, sh).clamp(1, ww), wh)
        } else {
            (ww, scale(sh, ww, sw).clamp(1, wh))
        };
        Layout {
            src,
            win,
            dst: Rect {
                x: (ww - dw) / 2,
                y: (wh - dh) / 2,
                w: dw,
                h: dh,
            },
        }
    }

    /// The source column (or row) a destination offset inside `dst` samples (nearest neighbour).
    fn sample(offset: u32, src: u32, dst: u32) -> u32 {
        scale(offset, src, dst).min(src.saturating_sub(1))
    }

    /// A window position (physical pixels) as a desktop position, clamped to the desktop.
    pub(super) fn desktop_at(&self, x: f64, y: f64) -> (u16, u16) {
        let axis = |p: f64, start: u32, len: u32, src: u32| -> u16 {
            if len == 0 || src == 0 {
                return 0;
            }
            let v = ((p - f64::from(start)) * f64::from(src) / f64::from(len)).floor();
            let v = v.clamp(0.0, f64::from(src - 1));
            // In range by the clamp (src fits u16: it is a desktop size).
            u16::try_from(v as u32).unwrap_or(u16::MAX)
        };
        (
            axis(x, self.dst.x, self.dst.w, self.src.0),
            axis(y, self.dst.y, self.dst.h, self.src.1),
        )
    }

    /// The window area whose pixels sample from `r` (a desktop area).
    pub(super) fn dst_of(&self, r: Rect) -> Rect {
        let (sw, sh) = self.src;
        if sw == 0 || sh == 0 || self.dst.is_empty() {
            return Rect {
                x: 0,
                y: 0,
                w: 0,
                h: 0,
            };
        }
        let r = r.clip(sw, sh);
        // Destination offset d samples floor(d * src / dst), which lies in [a, b) exactly for
        // ceil(a * dst / src) <= d < ceil(b * dst / src).
        let from = |a: u32, src: u32, dst: u32| scale_ceil(a, dst, src);
        let (x0, x1) = (from(r.x, sw, self.dst.w), from(r.right(), sw, self.dst.w));
        let (y0, y1) = (from(r.y, sh, self.dst.h), from(r.bottom(), sh, self.dst.h));
        Rect {
            x: self.dst.x + x0,
            y: self.dst.y + y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }
}

/// `v * num / den`, rounded down.
fn scale(v: u32, num: u32, den: u32) -> u32 {
    if den == 0 {
        return 0;
    }
    u32::try_from(u64::from(v) * u64::from(num) / u64::from(den)).unwrap_or(u32::MAX)
}

/// `v * num / den`, rounded up.
fn scale_ceil(v: u32, num: u32, den: u32) -> u32 {
    if den == 0 {
        return 0;
    }
    u32::try_from((u64::from(v) * u64::from(num)).div_ceil(u64::from(den))).unwrap_or(u32::MAX)
}

fn px(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Draws `region` of the window (`layout.win` sized, row-major `out`) from the desktop `src`: desktop pixels
/// inside the layout's destination, black around it.
pub(super) fn blit(layout: &Layout, src: &[u32], out: &mut [u32], region: Rect) {
    let (ww, wh) = layout.win;
    let region = region.clip(ww, wh);
    let (sw, sh) = layout.src;
    let d = layout.dst;
    if region.is_empty() || out.len() < px(ww) * px(wh) {
        return;
    }
    let inside_x = region.x.max(d.x)..region.right().min(d.right());
    // The source column of every destination column of the region that lies inside the image.
    let columns: Vec<usize> = inside_x
        .clone()
        .map(|x| px(Layout::sample(x - d.x, sw, d.w)))
        .collect();
    for y in region.y..region.bottom() {
        let row = &mut out[px(y) * px(ww)..][..px(ww)];
        let span = &mut row[px(region.x)..px(region.right())];
        if y < d.y || y >= d.bottom() || columns.is_empty() {
            span.fill(0);
            continue;
        }
        let sy = px(Layout::sample(y - d.y, sh, d.h));
        let Some(src_row) = src.get(sy * px(sw)..(sy + 1) * px(sw)) else {
            span.fill(0);
            continue;
        };
        row[px(region.x)..px(inside_x.start)].fill(0);
        row[px(inside_x.end)..px(region.right())].fill(0);
        let target = &mut row[px(inside_x.start)..px(inside_x.end)];
        if sw == d.w {
            let start = px(inside_x.start - d.x);
            target.copy_from_slice(&src_row[start..start + target.len()]);
        } else {
            for (t, &c) in target.iter_mut().zip(&columns) {
                *t = src_row.get(c).copied().unwrap_or(0);
            }
        }
    }
}

/// Converts `rect` of an RGBA image (`stride` bytes per row, `width` pixels wide) into `out` as `0x00RRGGBB`.
fn rgba_to_0rgb(data: &[u8], stride: usize, width: u32, rect: Rect, out: &mut [u32]) {
    for y in rect.y..rect.bottom() {
        let from = px(y) * stride + px(rect.x) * 4;
        let Some(src) = data.get(from..from + px(rect.w) * 4) else {
            return;
        };
        let at = px(y) * px(width) + px(rect.x);
        let Some(dst) = out.get_mut(at..at + px(rect.w)) else {
            return;
        };
        for (d, p) in dst.iter_mut().zip(src.chunks_exact(4)) {
            *d = u32::from(p[0]) << 16 | u32::from(p[1]) << 8 | u32::from(p[2]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_desktop_that_fits_is_letterboxed_1_to_1() {
        let l = Layout::fit((1024, 768), (1280, 800));
        assert_eq!(
            l.dst,
            Rect {
                x: 128,
                y: 16,
                w: 1024,
                h: 768
            }
        );
        assert_eq!(l.desktop_at(128.0, 16.0), (0, 0));
        assert_eq!(l.desktop_at(128.0 + 100.5, 16.0 + 200.0), (100, 200));
        // Outside the image: clamped to its edges.
        assert_eq!(l.desktop_at(0.0, 0.0), (0, 0));
        assert_eq!(l.desktop_at(1279.0, 799.0), (1023, 767));
        // Same size: the whole window.
        let same = Layout::fit((1024, 768), (1024, 768));
        assert_eq!(
            same.dst,
            Rect {
                x: 0,
                y: 0,
                w: 1024,
                h: 768
            }
        );
        assert_eq!(same.desktop_at(100.0, 200.0), (100, 200));
    }

    #[test]
    fn a_larger_desktop_is_scaled_down_keeping_its_aspect() {
        // Width-bound: 2048x768 into 1024x768 -> 1024x384, centred vertically.
        let l = Layout::fit((2048, 768), (1024, 768));
        assert_eq!(
            l.dst,
            Rect {
                x: 0,
                y: 192,
                w: 1024,
                h: 384
            }
        );
        assert_eq!(l.desktop_at(512.0, 192.0 + 192.0), (1024, 384));
        // Height-bound: 1024x768 into 1024x384 -> 512x384, centred horizontally.
        let l = Layout::fit((1024, 768), (1024, 384));
        assert_eq!(
            l.dst,
            Rect {
                x: 256,
                y: 0,
                w: 512,
                h: 384
            }
        );
        assert_eq!(l.desktop_at(256.0 + 511.0, 383.0), (1022, 766));
        // Degenerate sizes give an empty destination, never a division by zero.
        assert!(Layout::fit((0, 0), (100, 100)).dst.is_empty());
        assert!(Layout::fit((100, 100), (0, 10)).dst.is_empty());
        assert_eq!(Layout::fit((0, 0), (100, 100)).desktop_at(5.0, 5.0), (0, 0));
        // A 1-pixel-high window still gets a 1-pixel image.
        assert_eq!(Layout::fit((1000, 10), (10, 1)).dst.h, 1);
    }

    #[test]
    fn a_damaged_desktop_area_maps_to_the_window_pixels_sampling_it() {
        let one = Layout::fit((100, 50), (120, 50));
        assert_eq!(
            one.dst_of(Rect {
                x: 10,
                y: 5,
                w: 3,
                h: 2
            }),
            Rect {
                x: 20,
                y: 5,
                w: 3,
                h: 2
            }
        );
        // Half size: desktop columns 10..13 are sampled by window columns 5..7 (5 -> 10, 6 -> 12).
        let half = Layout::fit((200, 100), (100, 50));
        assert_eq!(
            half.dst_of(Rect {
                x: 10,
                y: 0,
                w: 3,
                h: 1
            }),
            Rect {
                x: 5,
                y: 0,
                w: 2,
                h: 1
            }
        );
        // A 1-pixel damage between two samples touches no window pixel.
        assert!(
            half.dst_of(Rect {
                x: 11,
                y: 1,
                w: 1,
                h: 1
            })
            .is_empty()
        );
        // Exactness against the sampler, for every small rectangle of a 7 -> 3 scale.
        let l = Layout::fit((7, 7), (3, 3));
        for x in 0..7 {
            for w in 1..=7 - x {
                let r = l.dst_of(Rect { x, y: 0, w, h: 7 });
                for d in 0..3 {
                    let s = Layout::sample(d, 7, 3);
                    let inside = s >= x && s < x + w;
                    assert_eq!(inside, d >= r.x && d < r.right(), "x={x} w={w} d={d}");
                }
            }
        }
    }

    #[test]
    fn blit_letterboxes_copies_and_scales() {
        // A 2x2 desktop in a 4x3 window: centred at (1, 0), black around.
        let src = [1, 2, 3, 4];
        let l = Layout::fit((2, 2), (4, 3));
        let mut out = vec![9; 12];
        blit(
            &l,
            &src,
            &mut out,
            Rect {
                x: 0,
                y: 0,
                w: 4,
                h: 3,
            },
        );
        assert_eq!(out, [0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]);
        // Only the region is touched.
        let mut out = vec![9; 12];
        blit(
            &l,
            &src,
            &mut out,
            Rect {
                x: 2,
                y: 1,
                w: 1,
                h: 1,
            },
        );
        assert_eq!(out, [9, 9, 9, 9, 9, 9, 4, 9, 9, 9, 9, 9]);
        // 4x2 scaled into 2x1: nearest neighbour takes columns 0 and 2 of row 0.
        let src = [1, 2, 3, 4, 5, 6, 7, 8];
        let l = Layout::fit((4, 2), (2, 1));
        let mut out = vec![9; 2];
        blit(
            &l,
            &src,
            &mut out,
            Rect {
                x: 0,
                y: 0,
                w: 2,
                h: 1,
            },
        );
        assert_eq!(out, [1, 3]);
        // A region past the window is clipped, a short output buffer is left alone.
        let mut short = vec![9; 1];
        blit(
            &l,
            &src,
            &mut short,
            Rect {
                x: 0,
                y: 0,
                w: 50,
                h: 50,
            },
        );
        assert_eq!(short, [9]);
    }

    #[test]
    fn rgba_becomes_0rgb_for_the_drawn_rect_only() {
        // 2x2 RGBA with a stride of 12 bytes (4 bytes of padding per row).
        let data = [
            0x11, 0x22, 0x33, 0xFF, 0x44, 0x55, 0x66, 0xFF, 0, 0, 0, 0, //
            0x77, 0x88, 0x99, 0xFF, 0xAA, 0xBB, 0xCC, 0xFF, 0, 0, 0, 0,
        ];
        let mut out = vec![0; 4];
        rgba_to_0rgb(
            &data,
            12,
            2,
            Rect {
                x: 1,
                y: 0,
                w: 1,
                h: 2,
            },
            &mut out,
        );
        assert_eq!(out, [0, 0x0044_5566, 0, 0x00AA_BBCC]);
        // A rectangle past the data stops instead of panicking.
        rgba_to_0rgb(
            &data,
            12,
            2,
            Rect {
                x: 0,
                y: 1,
                w: 2,
                h: 5,
            },
            &mut out,
        );
        assert_eq!(out, [0, 0x0044_5566, 0x0077_8899, 0x00AA_BBCC]);
    }

    #[test]
    fn inclusive_rectangles_convert_clip_and_unite() {
        let r = Rect::from_inclusive(&InclusiveRectangle {
            left: 10,
            top: 20,
            right: 19,
            bottom: 20,
        });
        assert_eq!(
            r,
            Rect {
                x: 10,
                y: 20,
                w: 10,
                h: 1
            }
        );
        assert_eq!(
            r.clip(15, 100),
            Rect {
                x: 10,
                y: 20,
                w: 5,
                h: 1
            }
        );
        assert!(r.clip(5, 5).is_empty());
        assert_eq!(
            r.union(Rect {
                x: 0,
                y: 0,
                w: 1,
                h: 1
            }),
            Rect {
                x: 0,
                y: 0,
                w: 20,
                h: 21
            }
        );
    }

    #[test]
    fn desktop_sizes_are_what_display_control_accepts() {
        assert_eq!(desktop_size_for(901, 100), (900, 200), "even width, at least 200");
        assert_eq!(desktop_size_for(1024, 768), (1024, 768));
        assert_eq!(desktop_size_for(0, 0), (200, 200));
        assert_eq!(desktop_size_for(10_001, 9000), (8192, 8192));
    }

    #[test]
    fn scaling_rounds_down_or_up_and_never_divides_by_zero() {
        assert_eq!(scale(7, 3, 2), 10);
        assert_eq!(scale_ceil(7, 3, 2), 11);
        assert_eq!(scale(6, 3, 2), 9);
        assert_eq!(scale_ceil(6, 3, 2), 9, "exact: no rounding up");
        assert_eq!(scale(5, 1, 0), 0);
        assert_eq!(scale_ceil(5, 1, 0), 0);
        // The product is taken in u64: no overflow on the way, saturated on the way out.
        assert_eq!(scale(u32::MAX, 2, 2), u32::MAX);
        assert_eq!(scale(u32::MAX, u32::MAX, 1), u32::MAX);
        assert_eq!(scale_ceil(u32::MAX, u32::MAX, 1), u32::MAX);
    }

    #[test]
    fn sampling_picks_the_nearest_source_pixel_below_and_stays_inside() {
        // 1:1 is the identity.
        assert_eq!(
            (0..4).map(|d| Layout::sample(d, 4, 4)).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        // Half size: every other column.
        assert_eq!(
            (0..3).map(|d| Layout::sample(d, 6, 3)).collect::<Vec<_>>(),
            [0, 2, 4]
        );
        // An offset past the destination is clamped to the last source pixel, an empty source gives 0.
        assert_eq!(Layout::sample(10, 4, 4), 3);
        assert_eq!(Layout::sample(3, 0, 4), 0);
        assert_eq!(Layout::sample(3, 4, 0), 0);
    }

    fn image(w: u16, h: u16) -> DecodedImage {
        DecodedImage::new(ironrdp_graphics::image_processing::PixelFormat::RgbA32, w, h)
    }

    #[test]
    fn the_frame_collects_drawn_areas_until_the_window_takes_them() {
        let mut f = Frame::new(4, 3);
        assert_eq!((f.width, f.height, f.pixels.len(), f.dirty), (4, 3, 12, None));
        let img = image(4, 3);
        let at = |left, top, right, bottom| InclusiveRectangle {
            left,
            top,
            right,
            bottom,
        };
        f.copy_from(&img, Some(&at(0, 0, 0, 0)));
        assert_eq!(
            f.dirty,
            Some(Rect {
                x: 0,
                y: 0,
                w: 1,
                h: 1
            })
        );
        // A second area unites with the first; one past the image is clipped to it.
        f.copy_from(&img, Some(&at(2, 1, 9, 9)));
        assert_eq!(
            f.dirty,
            Some(Rect {
                x: 0,
                y: 0,
                w: 4,
                h: 3
            })
        );
        // Taken by the window; an area wholly outside the image marks nothing.
        f.dirty = None;
        f.copy_from(&img, Some(&at(5, 5, 6, 6)));
        assert_eq!(f.dirty, None);
    }

    #[test]
    fn a_new_desktop_size_replaces_the_frame_and_marks_all_of_it() {
        let mut f = Frame::new(4, 3);
        f.pixels.fill(7);
        let area = InclusiveRectangle {
            left: 0,
            top: 0,
            right: 0,
            bottom: 0,
        };
        f.copy_from(&image(2, 2), Some(&area));
        assert_eq!((f.width, f.height), (2, 2));
        assert_eq!(f.pixels, [0; 4], "the new image, converted");
        assert_eq!(
            f.dirty,
            Some(Rect {
                x: 0,
                y: 0,
                w: 2,
                h: 2
            })
        );
        // `None` means all of it, at any size.
        f.dirty = None;
        f.copy_from(&image(2, 2), None);
        assert_eq!(
            f.dirty,
            Some(Rect {
                x: 0,
                y: 0,
                w: 2,
                h: 2
            })
        );
    }
}
