//! Keyboard and mouse as RDP input: the key position -> scan code table, Pause's special sequence,
//! auto-repeat, mouse buttons and wheel deltas, as ironrdp-input values and FastPath events.
//!
//! Pure: no I/O, no event loop, no tokio. It names winit's plain value enums (`KeyCode`, `MouseButton`,
//! `MouseScrollDelta`): the key table is keyed by winit's `KeyCode`, and a copy of that enum here would only
//! move the table.

use ironrdp_input::{MouseButton, Operation, Scancode, WheelRotations};
use ironrdp_pdu::input::fast_path::{FastPathInputEvent, KeyboardFlags};
use winit::event::MouseScrollDelta;
use winit::keyboard::KeyCode;

/// A winit mouse button as RDP's: Back and Forward are X1 and X2, another by its native number when RDP has
/// it.
pub(super) fn mouse_button(b: winit::event::MouseButton) -> Option<MouseButton> {
    use winit::event::MouseButton as B;
    Some(match b {
        B::Left => MouseButton::Left,
        B::Right => MouseButton::Right,
        B::Middle => MouseButton::Middle,
        B::Back => MouseButton::X1,
        B::Forward => MouseButton::X2,
        B::Other(n) => return MouseButton::from_native_button(n),
    })
}

/// One wheel notch in RDP units (WHEEL_DELTA).
const WHEEL_NOTCH: f64 = 120.0;

/// A wheel event as RDP rotations. RDP counts positive away from the user (up) and to the right; winit's
/// positive deltas move the content right and down, which is scrolling left and up.
pub(super) fn wheel(delta: MouseScrollDelta) -> Vec<Operation> {
    let (x, y) = match delta {
        MouseScrollDelta::LineDelta(x, y) => (f64::from(x) * WHEEL_NOTCH, f64::from(y) * WHEEL_NOTCH),
        MouseScrollDelta::PixelDelta(p) => (p.x, p.y),
    };
    let units = |v: f64| -> i16 {
        // Clamped into i16 first, so the conversion cannot wrap.
        v.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
    };
    let mut ops = Vec::new();
    let vertical = units(y);
    if vertical != 0 {
        ops.push(Operation::WheelRotations(WheelRotations {
            is_vertical: true,
            rotation_units: vertical,
        }));
    }
    let horizontal = units(-x);
    if horizontal != 0 {
        ops.push(Operation::WheelRotations(WheelRotations {
            is_vertical: false,
            rotation_units: horizontal,
        }));
    }
    ops
}

/// Pause has no single scancode: it is E1 1D 45 (Ctrl with the E1 prefix, then NumLock), make and break at
/// once, as a PC keyboard sends it.
pub(super) fn pause_events() -> [FastPathInputEvent; 4] {
    use FastPathInputEvent::KeyboardEvent as Key;
    [
        Key(KeyboardFlags::EXTENDED1, 0x1D),
        Key(KeyboardFlags::empty(), 0x45),
        Key(KeyboardFlags::EXTENDED1 | KeyboardFlags::RELEASE, 0x1D),
        Key(KeyboardFlags::RELEASE, 0x45),
    ]
}

/// An auto-repeated key: its make code again, without the break ironrdp-input's database would put before a
/// second press.
pub(super) fn repeated(sc: Scancode) -> FastPathInputEvent {
    let (extended, code) = sc.as_u8();
    let flags = if extended {
        KeyboardFlags::EXTENDED
    } else {
        KeyboardFlags::empty()
    };
    FastPathInputEvent::KeyboardEvent(flags, code)
}

/// The PC/AT scan code set 1 code of a key (by position, as winit's `KeyCode` is), with the E0 prefix as
/// `extended`. The server applies its own keyboard layout, so the position is what counts.
pub(super) fn scancode(code: KeyCode) -> Option<Scancode> {
    KEYS.iter()
        .find(|(k, ..)| *k == code)
        .map(|&(_, extended, sc)| Scancode::from_u8(extended, sc))
}

/// Key position -> (E0 prefix, set-1 make code). Sources: the USB HID to PS/2 scan code translation table
/// (Microsoft), the same table FreeRDP and Chromium's key code converter use.
const KEYS: &[(KeyCode, bool, u8)] = &[
    (KeyCode::Escape, false, 0x01),
    (KeyCode::Digit1, false, 0x02),
    (KeyCode::Digit2, false, 0x03),
    (KeyCode::Digit3, false, 0x04),
    (KeyCode::Digit4, false, 0x05),
    (KeyCode::Digit5, false, 0x06),
    (KeyCode::Digit6, false, 0x07),
    (KeyCode::Digit7, false, 0x08),
    (KeyCode::Digit8, false, 0x09),
    (KeyCode::Digit9, false, 0x0A),
    (KeyCode::Digit0, false, 0x0B),
    (KeyCode::Minus, false, 0x0C),
    (KeyCode::Equal, false, 0x0D),
    (KeyCode::Backspace, false, 0x0E),
    (KeyCode::Tab, false, 0x0F),
    (KeyCode::KeyQ, false, 0x10),
    (KeyCode::KeyW, false, 0x11),
    (KeyCode::KeyE, false, 0x12),
    (KeyCode::KeyR, false, 0x13),
    (KeyCode::KeyT, false, 0x14),
    (KeyCode::KeyY, false, 0x15),
    (KeyCode::KeyU, false, 0x16),
    (KeyCode::KeyI, false, 0x17),
    (KeyCode::KeyO, false, 0x18),
    (KeyCode::KeyP, false, 0x19),
    (KeyCode::BracketLeft, false, 0x1A),
    (KeyCode::BracketRight, false, 0x1B),
    (KeyCode::Enter, false, 0x1C),
    (KeyCode::ControlLeft, false, 0x1D),
    (KeyCode::KeyA, false, 0x1E),
    (KeyCode::KeyS, false, 0x1F),
    (KeyCode::KeyD, false, 0x20),
    (KeyCode::KeyF, false, 0x21),
    (KeyCode::KeyG, false, 0x22),
    (KeyCode::KeyH, false, 0x23),
    (KeyCode::KeyJ, false, 0x24),
    (KeyCode::KeyK, false, 0x25),
    (KeyCode::KeyL, false, 0x26),
    (KeyCode::Semicolon, false, 0x27),
    (KeyCode::Quote, false, 0x28),
    (KeyCode::Backquote, false, 0x29),
    (KeyCode::ShiftLeft, false, 0x2A),
    (KeyCode::Backslash, false, 0x2B),
    (KeyCode::KeyZ, false, 0x2C),
    (KeyCode::KeyX, false, 0x2D),
    (KeyCode::KeyC, false, 0x2E),
    (KeyCode::KeyV, false, 0x2F),
    (KeyCode::KeyB, false, 0x30),
    (KeyCode::KeyN, false, 0x31),
    (KeyCode::KeyM, false, 0x32),
    (KeyCode::Comma, false, 0x33),
    (KeyCode::Period, false, 0x34),
    (KeyCode::Slash, false, 0x35),
    (KeyCode::ShiftRight, false, 0x36),
    (KeyCode::NumpadMultiply, false, 0x37),
    (KeyCode::AltLeft, false, 0x38),
    (KeyCode::Space, false, 0x39),
    (KeyCode::CapsLock, false, 0x3A),
    (KeyCode::F1, false, 0x3B),
    (KeyCode::F2, false, 0x3C),
    (KeyCode::F3, false, 0x3D),
    (KeyCode::F4, false, 0x3E),
    (KeyCode::F5, false, 0x3F),
    (KeyCode::F6, false, 0x40),
    (KeyCode::F7, false, 0x41),
    (KeyCode::F8, false, 0x42),
    (KeyCode::F9, false, 0x43),
    (KeyCode::F10, false, 0x44),
    (KeyCode::NumLock, false, 0x45),
    (KeyCode::ScrollLock, false, 0x46),
    (KeyCode::Numpad7, false, 0x47),
    (KeyCode::Numpad8, false, 0x48),
    (KeyCode::Numpad9, false, 0x49),
    (KeyCode::NumpadSubtract, false, 0x4A),
    (KeyCode::Numpad4, false, 0x4B),
    (KeyCode::Numpad5, false, 0x4C),
    (KeyCode::Numpad6, false, 0x4D),
    (KeyCode::NumpadAdd, false, 0x4E),
    (KeyCode::Numpad1, false, 0x4F),
    (KeyCode::Numpad2, false, 0x50),
    (KeyCode::Numpad3, false, 0x51),
    (KeyCode::Numpad0, false, 0x52),
    (KeyCode::NumpadDecimal, false, 0x53),
    (KeyCode::IntlBackslash, false, 0x56),
    (KeyCode::F11, false, 0x57),
    (KeyCode::F12, false, 0x58),
    (KeyCode::NumpadEqual, false, 0x59),
    (KeyCode::F13, false, 0x64),
    (KeyCode::F14, false, 0x65),
    (KeyCode::F15, false, 0x66),
    (KeyCode::F16, false, 0x67),
    (KeyCode::F17, false, 0x68),
    (KeyCode::F18, false, 0x69),
    (KeyCode::F19, false, 0x6A),
    (KeyCode::F20, false, 0x6B),
    (KeyCode::F21, false, 0x6C),
    (KeyCode::F22, false, 0x6D),
    (KeyCode::F23, false, 0x6E),
    (KeyCode::KanaMode, false, 0x70),
    (KeyCode::Lang2, false, 0x71),
    (KeyCode::Lang1, false, 0x72),
    (KeyCode::IntlRo, false, 0x73),
    (KeyCode::F24, false, 0x76),
    (KeyCode::Convert, false, 0x79),
    (KeyCode::NonConvert, false, 0x7B),
    (KeyCode::IntlYen, false, 0x7D),
    (KeyCode::NumpadComma, false, 0x7E),
    (KeyCode::MediaTrackPrevious, true, 0x10),
    (KeyCode::MediaTrackNext, true, 0x19),
    (KeyCode::NumpadEnter, true, 0x1C),
    (KeyCode::ControlRight, true, 0x1D),
    (KeyCode::AudioVolumeMute, true, 0x20),
    (KeyCode::LaunchApp2, true, 0x21),
    (KeyCode::MediaPlayPause, true, 0x22),
    (KeyCode::MediaStop, true, 0x24),
    (KeyCode::AudioVolumeDown, true, 0x2E),
    (KeyCode::AudioVolumeUp, true, 0x30),
    (KeyCode::BrowserHome, true, 0x32),
    (KeyCode::NumpadDivide, true, 0x35),
    (KeyCode::PrintScreen, true, 0x37),
    (KeyCode::AltRight, true, 0x38),
    (KeyCode::Home, true, 0x47),
    (KeyCode::ArrowUp, true, 0x48),
    (KeyCode::PageUp, true, 0x49),
    (KeyCode::ArrowLeft, true, 0x4B),
    (KeyCode::ArrowRight, true, 0x4D),
    (KeyCode::End, true, 0x4F),
    (KeyCode::ArrowDown, true, 0x50),
    (KeyCode::PageDown, true, 0x51),
    (KeyCode::Insert, true, 0x52),
    (KeyCode::Delete, true, 0x53),
    (KeyCode::SuperLeft, true, 0x5B),
    (KeyCode::SuperRight, true, 0x5C),
    (KeyCode::ContextMenu, true, 0x5D),
    (KeyCode::Power, true, 0x5E),
    (KeyCode::Sleep, true, 0x5F),
    (KeyCode::WakeUp, true, 0x63),
    (KeyCode::BrowserSearch, true, 0x65),
    (KeyCode::BrowserFavorites, true, 0x66),
    (KeyCode::BrowserRefresh, true, 0x67),
    (KeyCode::BrowserStop, true, 0x68),
    (KeyCode::BrowserForward, true, 0x69),
    (KeyCode::BrowserBack, true, 0x6A),
    (KeyCode::LaunchApp1, true, 0x6B),
    (KeyCode::LaunchMail, true, 0x6C),
    (KeyCode::MediaSelect, true, 0x6D),
];

#[cfg(test)]
mod tests {
    use ironrdp_input::Database;

    use super::*;

    #[test]
    fn keys_map_to_set_1_scancodes_with_the_extended_flag() {
        let of = |k| scancode(k).map(Scancode::as_u8);
        assert_eq!(of(KeyCode::KeyA), Some((false, 0x1E)));
        assert_eq!(of(KeyCode::KeyQ), Some((false, 0x10)));
        assert_eq!(of(KeyCode::Digit0), Some((false, 0x0B)));
        assert_eq!(of(KeyCode::Enter), Some((false, 0x1C)));
        assert_eq!(of(KeyCode::NumpadEnter), Some((true, 0x1C)));
        assert_eq!(of(KeyCode::ControlLeft), Some((false, 0x1D)));
        assert_eq!(of(KeyCode::ControlRight), Some((true, 0x1D)));
        assert_eq!(of(KeyCode::AltRight), Some((true, 0x38)));
        assert_eq!(of(KeyCode::ShiftRight), Some((false, 0x36)));
        assert_eq!(of(KeyCode::SuperLeft), Some((true, 0x5B)));
        assert_eq!(of(KeyCode::ArrowUp), Some((true, 0x48)));
        assert_eq!(of(KeyCode::Numpad8), Some((false, 0x48)));
        assert_eq!(of(KeyCode::Delete), Some((true, 0x53)));
        assert_eq!(of(KeyCode::NumpadDecimal), Some((false, 0x53)));
        assert_eq!(of(KeyCode::NumpadDivide), Some((true, 0x35)));
        assert_eq!(of(KeyCode::F12), Some((false, 0x58)));
        assert_eq!(of(KeyCode::PrintScreen), Some((true, 0x37)));
        assert_eq!(of(KeyCode::Pause), None, "Pause has its own sequence");
        assert_eq!(of(KeyCode::Fn), None, "Fn never reaches the OS");
    }

    #[test]
    fn the_key_table_has_no_duplicate_key_or_scancode() {
        for (i, (k, e, c)) in KEYS.iter().enumerate() {
            for (k2, e2, c2) in &KEYS[i + 1..] {
                assert_ne!(k, k2, "{k:?} listed twice");
                assert_ne!((e, c), (e2, c2), "{k:?} and {k2:?} share a scancode");
            }
            assert!(*c < 0x80, "{k:?}: a make code has the high bit clear");
        }
        // Every key of a 104-key keyboard is there (the full 104 minus Pause, which is special).
        assert!(KEYS.len() >= 103, "{}", KEYS.len());
    }

    #[test]
    fn pause_is_e1_1d_45_make_and_break() {
        let ev = pause_events();
        assert_eq!(
            ev[0],
            FastPathInputEvent::KeyboardEvent(KeyboardFlags::EXTENDED1, 0x1D)
        );
        assert_eq!(
            ev[1],
            FastPathInputEvent::KeyboardEvent(KeyboardFlags::empty(), 0x45)
        );
        assert!(ev[2..].iter().all(
            |e| matches!(e, FastPathInputEvent::KeyboardEvent(f, _) if f.contains(KeyboardFlags::RELEASE))
        ));
    }

    #[test]
    fn modifiers_and_extended_keys_become_fast_path_events() {
        let mut db = Database::new();
        let sc = |k| scancode(k).expect("mapped");
        let ev = db.apply([
            Operation::KeyPressed(sc(KeyCode::ShiftLeft)),
            Operation::KeyPressed(sc(KeyCode::ArrowRight)),
        ]);
        assert_eq!(
            ev.as_slice(),
            [
                FastPathInputEvent::KeyboardEvent(KeyboardFlags::empty(), 0x2A),
                FastPathInputEvent::KeyboardEvent(KeyboardFlags::EXTENDED, 0x4D),
            ]
        );
        // Losing the focus releases both.
        let released = db.release_all();
        assert_eq!(released.len(), 2);
        assert!(released.iter().all(
            |e| matches!(e, FastPathInputEvent::KeyboardEvent(f, _) if f.contains(KeyboardFlags::RELEASE))
        ));
    }

    #[test]
    fn mouse_buttons_include_back_and_forward() {
        use winit::event::MouseButton as B;
        assert_eq!(mouse_button(B::Left), Some(MouseButton::Left));
        assert_eq!(mouse_button(B::Right), Some(MouseButton::Right));
        assert_eq!(mouse_button(B::Middle), Some(MouseButton::Middle));
        assert_eq!(mouse_button(B::Back), Some(MouseButton::X1));
        assert_eq!(mouse_button(B::Forward), Some(MouseButton::X2));
        assert_eq!(mouse_button(B::Other(42)), None);
    }

    fn rotations(ops: &[Operation]) -> Vec<(bool, i16)> {
        ops.iter()
            .map(|o| match o {
                Operation::WheelRotations(w) => (w.is_vertical, w.rotation_units),
                other => panic!("not a wheel: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn wheel_notches_are_120_units_up_and_right_positive() {
        // One notch up (winit: content moves down, y = +1).
        assert_eq!(
            rotations(&wheel(MouseScrollDelta::LineDelta(0.0, 1.0))),
            [(true, 120)]
        );
        assert_eq!(
            rotations(&wheel(MouseScrollDelta::LineDelta(0.0, -2.0))),
            [(true, -240)]
        );
        // Scrolling right: winit's x is negative, RDP's horizontal wheel positive.
        assert_eq!(
            rotations(&wheel(MouseScrollDelta::LineDelta(-1.0, 0.0))),
            [(false, 120)]
        );
        assert_eq!(
            rotations(&wheel(MouseScrollDelta::PixelDelta(
                winit::dpi::PhysicalPosition::new(3.0, -7.4)
            ))),
            [(true, -7), (false, -3)]
        );
        assert!(wheel(MouseScrollDelta::LineDelta(0.0, 0.0)).is_empty());
        assert_eq!(
            rotations(&wheel(MouseScrollDelta::LineDelta(0.0, 1000.0))),
            [(true, i16::MAX)],
            "clamped, never wrapped"
        );
    }

    #[test]
    fn a_repeated_key_is_its_make_code_again() {
        let sc = |k| scancode(k).expect("mapped");
        assert_eq!(
            repeated(sc(KeyCode::KeyA)),
            FastPathInputEvent::KeyboardEvent(KeyboardFlags::empty(), 0x1E)
        );
        assert_eq!(
            repeated(sc(KeyCode::ArrowRight)),
            FastPathInputEvent::KeyboardEvent(KeyboardFlags::EXTENDED, 0x4D)
        );
        // The same event the database sends for the first press, and never a release.
        let mut db = Database::new();
        let first = db.apply([Operation::KeyPressed(sc(KeyCode::ArrowRight))]);
        assert_eq!(first.as_slice(), [repeated(sc(KeyCode::ArrowRight))]);
    }
}
