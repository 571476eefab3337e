//! Desktop Entry files (freedesktop.org Desktop Entry Specification 1.5), pure: the two escaping layers of
//! an `Exec` key, the reverse parse, and the text of the two entries rdpl writes (the .rdp handler and a
//! per-profile launcher).
//!
//! An `Exec` value goes through two layers, and both matter for a profile named `my $erver`:
//! 1. *Exec quoting* (spec, "The Exec key"): an argument holding a reserved character (space, `"`, `'`, `\`,
//!    `$`, `` ` ``, `<`, `>`, `~`, `|`, `&`, `;`, `*`, `?`, `#`, `(`, `)`, tab, newline) is put in double
//!    quotes, and inside them `"`, `` ` ``, `$` and `\` get a backslash. A literal `%` is `%%` everywhere,
//!    since `%` starts a field code (`%f`).
//! 2. *String escaping* (spec, "Possible value types"): the whole value is a `string`, so every backslash
//!    from layer 1 is written `\\`, and newline, tab and carriage return become `\n`, `\t`, `\r`.
//!
//! [`parse_exec`] undoes both, the way GLib and KDE read the key, so tests can prove the round trip.

use std::fmt::Write as _;

/// Characters that force an `Exec` argument into double quotes (Desktop Entry Specification, "The Exec key").
const RESERVED: &[char] = &[
    ' ', '\t', '\n', '\r', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')', '`',
];

/// The value of the `X-Rdpl-Managed` key in every file rdpl writes: removal only touches files that carry it.
pub const MANAGED_KEY: &str = "X-Rdpl-Managed";

/// The desktop file id of the .rdp handler (`$XDG_DATA_HOME/applications/rdpl.desktop`).
pub const HANDLER_ID: &str = "rdpl.desktop";

/// An icon from the freedesktop.org Icon Naming Specification that every icon theme has.
pub const ICON: &str = "network-workgroup";

/// One argument quoted for an `Exec` key (layer 1 only; see the module docs).
pub fn quote_arg(arg: &str) -> String {
    let needs_quotes = arg.is_empty() || arg.contains(RESERVED);
    let mut s = String::with_capacity(arg.len() + 2);
    if needs_quotes {
        s.push('"');
    }
    for c in arg.chars() {
        match c {
            '%' => s.push_str("%%"),
            '"' | '`' | '$' | '\\' if needs_quotes => {
                s.push('\\');
                s.push(c);
            }
            c => s.push(c),
        }
    }
    if needs_quotes {
        s.push('"');
    }
    s
}

/// Escapes a value of type `string` or `localestring` (layer 2; see the module docs).
pub fn escape_value(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for (i, c) in v.chars().enumerate() {
        match c {
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            '\r' => s.push_str("\\r"),
            ' ' if i == 0 => s.push_str("\\s"),
            c => s.push(c),
        }
    }
    s
}

/// The value of an `Exec` key for these arguments; `field_codes` (e.g. `%f`) are appended unquoted.
pub fn exec_value(program: &str, args: &[&str], field_codes: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(1 + args.len() + field_codes.len());
    parts.push(quote_arg(program));
    parts.extend(args.iter().map(|a| quote_arg(a)));
    parts.extend(field_codes.iter().map(|f| (*f).to_owned()));
    escape_value(&parts.join(" "))
}

/// Why an `Exec` value does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// A backslash at the very end of the value, or before a character the string type does not escape.
    #[error("invalid escape sequence `\\{0}`")]
    BadEscape(String),
    /// A double quote that is never closed.
    #[error("unterminated double quote")]
    Unterminated,
    /// A `%` that is neither `%%` nor a field code.
    #[error("`%` not followed by a field code")]
    BadPercent,
}

/// Parses an `Exec` value back into arguments, as launchers do: string unescaping, then quoting, then `%%`
/// to `%`. Field codes (`%f`, `%U`, ...) are kept as they are.
pub fn parse_exec(value: &str) -> Result<Vec<String>, ExecError> {
    // Layer 2: the string type.
    let mut unescaped = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            unescaped.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => unescaped.push('\\'),
            Some('s') => unescaped.push(' '),
            Some('n') => unescaped.push('\n'),
            Some('t') => unescaped.push('\t'),
            Some('r') => unescaped.push('\r'),
            Some(c) => return Err(ExecError::BadEscape(c.to_string())),
            None => return Err(ExecError::BadEscape(String::new())),
        }
    }
    // Layer 1: quoting and field codes.
    let mut args = Vec::new();
    let mut cur: Option<String> = None;
    let mut it = unescaped.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(a) = cur.take() {
                    args.push(a);
                }
            }
            '"' => {
                let a = cur.get_or_insert_with(String::new);
                loop {
                    match it.next() {
                        None => return Err(ExecError::Unterminated),
                        Some('"') => break,
                        Some('\\') => match it.next() {
                            Some(e @ ('"' | '`' | '$' | '\\')) => a.push(e),
                            Some(e) => {
                                a.push('\\');
                                a.push(e);
                            }
                            None => return Err(ExecError::Unterminated),
                        },
                        Some('%') => match it.next() {
                            Some('%') => a.push('%'),
                            _ => return Err(ExecError::BadPercent),
                        },
                        Some(e) => a.push(e),
                    }
                }
            }
            '%' => {
                let a = cur.get_or_insert_with(String::new);
                match it.next() {
                    Some('%') => a.push('%'),
                    Some(code) if code.is_ascii_alphabetic() => {
                        a.push('%');
                        a.push(code);
                    }
                    _ => return Err(ExecError::BadPercent),
                }
            }
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(a) = cur {
        args.push(a);
    }
    Ok(args)
}

/// The value of `key` in the `[Desktop Entry]` group of `text` (raw, still escaped), if present.
pub fn get_key<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut in_main = false;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('[') {
            in_main = line == "[Desktop Entry]";
            continue;
        }
        if !in_main {
            continue;
        }
        if let Some((k, v)) = line.split_once('=')
            && k.trim_end() == key
        {
            return Some(v.trim_start());
        }
    }
    None
}

/// Whether `text` is a desktop entry rdpl wrote for `purpose` (`integrate` or `shortcut`).
pub fn is_managed(text: &str, purpose: &str) -> bool {
    get_key(text, MANAGED_KEY) == Some(purpose)
}

fn entry(lines: &[(&str, String)]) -> String {
    let mut s = String::from("[Desktop Entry]\n");
    for (k, v) in lines {
        let _ = writeln!(s, "{k}={v}");
    }
    s
}

/// The .rdp handler: `Exec=<exe> open %f`, a terminal (rdpl prints its pre-flight report and may ask
/// for a password), in the menu under Network.
pub fn handler_entry(exe: &str) -> String {
    entry(&[
        ("Type", "Application".into()),
        ("Version", "1.0".into()),
        ("Name", "rdpl (Remote Desktop launcher)".into()),
        ("GenericName", "Remote Desktop launcher".into()),
        (
            "Comment",
            "Check and open Remote Desktop (.rdp) files safely".into(),
        ),
        ("Exec", exec_value(exe, &["open"], &["%f"])),
        ("TryExec", escape_value(exe)),
        ("Terminal", "true".into()),
        ("NoDisplay", "false".into()),
        ("MimeType", "application/x-rdp;".into()),
        ("Categories", "Network;RemoteAccess;".into()),
        ("Icon", ICON.into()),
        (MANAGED_KEY, "integrate".into()),
    ])
}

/// A launcher for one profile: `Exec=<exe> connect <profile>`.
pub fn shortcut_entry(exe: &str, profile: &str, target: &str) -> String {
    entry(&[
        ("Type", "Application".into()),
        ("Version", "1.0".into()),
        ("Name", escape_value(&format!("{profile} (RDP)"))),
        ("Comment", escape_value(&format!("Connect to {target} with rdpl"))),
        ("Exec", exec_value(exe, &["connect", profile], &[])),
        ("TryExec", escape_value(exe)),
        ("Terminal", "true".into()),
        ("Categories", "Network;RemoteAccess;".into()),
        ("Icon", ICON.into()),
        (MANAGED_KEY, "shortcut".into()),
        ("X-Rdpl-Profile", escape_value(profile)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_arguments_stay_bare() {
        assert_eq!(quote_arg("/usr/bin/rdpl"), "/usr/bin/rdpl");
        assert_eq!(quote_arg("web01.corp"), "web01.corp");
        assert_eq!(quote_arg("a=b,c+d@e"), "a=b,c+d@e");
    }

    #[test]
    fn reserved_characters_are_quoted_and_escaped() {
        assert_eq!(quote_arg("web 01"), r#""web 01""#);
        assert_eq!(quote_arg(""), r#""""#);
        assert_eq!(quote_arg("my $erver"), r#""my \$erver""#);
        assert_eq!(quote_arg("a`b"), r#""a\`b""#);
        assert_eq!(quote_arg(r"C:\x"), r#""C:\\x""#);
        assert_eq!(quote_arg("it's"), r#""it's""#);
        assert_eq!(quote_arg("a\"b"), r#""a\"b""#);
        assert_eq!(quote_arg("~x"), r#""~x""#);
    }

    #[test]
    fn percent_is_doubled_inside_and_outside_quotes() {
        assert_eq!(quote_arg("100%"), "100%%");
        assert_eq!(quote_arg("100 %"), r#""100 %%""#);
    }

    #[test]
    fn exec_value_doubles_backslashes_for_the_string_layer() {
        // `$` -> `\$` (layer 1) -> `\\$` (layer 2).
        assert_eq!(
            exec_value("/opt/my apps/rdpl", &["connect", "my $erver"], &[]),
            r#""/opt/my apps/rdpl" connect "my \\$erver""#
        );
        assert_eq!(
            exec_value("/usr/bin/rdpl", &["open"], &["%f"]),
            "/usr/bin/rdpl open %f"
        );
    }

    #[test]
    fn string_escaping() {
        assert_eq!(escape_value("a\\b"), "a\\\\b");
        assert_eq!(escape_value(" lead"), "\\slead");
        assert_eq!(escape_value("mid dle"), "mid dle");
        assert_eq!(escape_value("x\ny\tz\r"), "x\\ny\\tz\\r");
    }

    #[test]
    fn round_trip_of_awkward_names() {
        let names = [
            "web01",
            "web 01",
            "my $erver",
            "back`tick`",
            "it's",
            "50% off",
            "semi;colon & pipe|",
            "tilde~hash#(paren)",
            "Büro Köln",
            "star*question?",
            "a=b",
        ];
        for exe in [
            "/usr/bin/rdpl",
            "/home/a b/.cargo/bin/rdpl",
            "/tmp/$x/`y`/100%/rdpl",
        ] {
            for name in names {
                let v = exec_value(exe, &["connect", name], &[]);
                assert_eq!(
                    parse_exec(&v).expect("parses"),
                    vec![exe.to_owned(), "connect".into(), name.to_owned()],
                    "{v}"
                );
            }
        }
    }

    #[test]
    fn field_codes_survive_parsing() {
        assert_eq!(
            parse_exec("/usr/bin/rdpl open %f").expect("parses"),
            ["/usr/bin/rdpl", "open", "%f"]
        );
    }

    #[test]
    fn bad_exec_values_are_rejected() {
        assert_eq!(parse_exec(r#""open"#), Err(ExecError::Unterminated));
        assert_eq!(parse_exec("a\\"), Err(ExecError::BadEscape(String::new())));
        assert_eq!(parse_exec("a %"), Err(ExecError::BadPercent));
    }

    #[test]
    fn keys_are_read_from_the_main_group_only() {
        let text = "[Desktop Action x]\nExec=nope\n[Desktop Entry]\nName=n\nExec = yes \n";
        assert_eq!(get_key(text, "Exec"), Some("yes "));
        assert_eq!(get_key(text, "Icon"), None);
        assert!(is_managed(&handler_entry("/usr/bin/rdpl"), "integrate"));
        assert!(!is_managed(&handler_entry("/usr/bin/rdpl"), "shortcut"));
        assert!(!is_managed("[Desktop Entry]\nName=x\n", "integrate"));
    }

    #[test]
    fn handler_entry_text() {
        insta::assert_snapshot!(handler_entry("/opt/rdpl tools/rdpl"), @r#"
        [Desktop Entry]
        Type=Application
        Version=1.0
        Name=rdpl (Remote Desktop launcher)
        GenericName=Remote Desktop launcher
        Comment=Check and open Remote Desktop (.rdp) files safely
        Exec="/opt/rdpl tools/rdpl" open %f
        TryExec=/opt/rdpl tools/rdpl
        Terminal=true
        NoDisplay=false
        MimeType=application/x-rdp;
        Categories=Network;RemoteAccess;
        Icon=network-workgroup
        X-Rdpl-Managed=integrate
        "#);
    }

    #[test]
    fn shortcut_entry_text() {
        let text = shortcut_entry("/usr/bin/rdpl", "my $erver", "srv.corp.test:3389");
        insta::assert_snapshot!(text, @r#"
        [Desktop Entry]
        Type=Application
        Version=1.0
        Name=my $erver (RDP)
        Comment=Connect to srv.corp.test:3389 with rdpl
        Exec=/usr/bin/rdpl connect "my \\$erver"
        TryExec=/usr/bin/rdpl
        Terminal=true
        Categories=Network;RemoteAccess;
        Icon=network-workgroup
        X-Rdpl-Managed=shortcut
        X-Rdpl-Profile=my $erver
        "#);
        let exec = get_key(&text, "Exec").expect("Exec");
        assert_eq!(
            parse_exec(exec).expect("parses"),
            ["/usr/bin/rdpl", "connect", "my $erver"]
        );
    }
}
