//! The launcher scripts `rdpl shortcut` writes where a desktop entry does not exist, pure: a `.cmd` batch
//! file for Windows and a `.command` shell script for macOS (Finder runs it in Terminal on double-click).
//!
//! Both start with a marker comment naming the profile, so `--remove` deletes only a file rdpl wrote.

/// The marker comment's text; the profile name follows it.
const MARKER: &str = "written by `rdpl shortcut` for the profile ";

/// Quotes a word for a POSIX shell: bare when it is plainly safe, else in single quotes (`'` as `'\''`).
pub fn sh_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A `.command` script (macOS): runs `rdpl connect PROFILE` in the Terminal window Finder opens.
pub fn command_script(exe: &str, profile: &str) -> String {
    format!(
        "#!/bin/sh\n# {MARKER}{profile}\n# Remove it with: rdpl shortcut {} --remove\nexec {} connect {}\n",
        sh_quote(profile),
        sh_quote(exe),
        sh_quote(profile)
    )
}

/// Quotes an argument for a batch file line: double quotes (which make `&|<>^` literal) and `%` as `%%`
/// (expanded even inside quotes). `None` for what a batch file cannot pass: `"`, and control characters.
pub fn cmd_quote(s: &str) -> Option<String> {
    if s.contains('"') || s.chars().any(char::is_control) {
        return None;
    }
    Some(format!("\"{}\"", s.replace('%', "%%")))
}

/// A `.cmd` file (Windows): runs `rdpl connect PROFILE`, and keeps the console window open when rdpl fails
/// so its report can be read. `None` when the path or the name cannot be written in a batch file.
///
/// cmd.exe decodes each line of a batch file with the console code page as it reaches it, so for a
/// non-ASCII path or name the script first switches to UTF-8 (`chcp 65001`, Windows 10 and later) and
/// back at the end (verified for ASCII names under Wine, whose cmd.exe ignores `chcp` when reading batch
/// lines; the UTF-8 switch is what real cmd.exe documents). CRLF line ends, as cmd.exe expects.
pub fn cmd_script(exe: &str, profile: &str) -> Option<String> {
    let exe_q = cmd_quote(exe)?;
    let name_q = cmd_quote(profile)?;
    let mut lines = vec![
        "@echo off".to_owned(),
        format!("rem {MARKER}{}", profile.replace('%', "%%")),
        format!("rem Remove it with: rdpl shortcut {name_q} --remove"),
        "setlocal DisableDelayedExpansion".to_owned(),
    ];
    let unicode = !exe.is_ascii() || !profile.is_ascii();
    if unicode {
        lines.push(r#"for /f "tokens=2 delims=:." %%c in ('chcp') do set "RDPL_OLD_CP=%%c""#.to_owned());
        lines.push("chcp 65001 >nul".to_owned());
    }
    lines.push(format!("{exe_q} connect {name_q}"));
    lines.push("set RDPL_EXIT=%ERRORLEVEL%".to_owned());
    if unicode {
        lines.push("chcp %RDPL_OLD_CP% >nul".to_owned());
    }
    lines.push("if not %RDPL_EXIT%==0 pause".to_owned());
    lines.push("exit /b %RDPL_EXIT%".to_owned());
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    Some(s)
}

/// Whether `text` is a script rdpl wrote for `profile`.
pub fn is_managed(text: &str, profile: &str) -> bool {
    text.lines().take(3).any(|l| {
        let l = l.trim_end_matches('\r');
        let rest = l
            .strip_prefix("# ")
            .or_else(|| l.strip_prefix("rem "))
            .and_then(|r| r.strip_prefix(MARKER));
        rest.is_some_and(|n| n == profile || n == profile.replace('%', "%%"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(sh_quote("/usr/local/bin/rdpl"), "/usr/local/bin/rdpl");
        assert_eq!(sh_quote("web 01"), "'web 01'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("$HOME"), "'$HOME'");
        assert_eq!(sh_quote(""), "''");
    }

    #[test]
    fn command_script_text() {
        let s = command_script("/Applications/rdpl tools/rdpl", "Bob's PC");
        insta::assert_snapshot!(s, @r#"
        #!/bin/sh
        # written by `rdpl shortcut` for the profile Bob's PC
        # Remove it with: rdpl shortcut 'Bob'\''s PC' --remove
        exec '/Applications/rdpl tools/rdpl' connect 'Bob'\''s PC'
        "#);
        assert!(is_managed(&s, "Bob's PC"));
        assert!(!is_managed(&s, "Bob"));
    }

    #[cfg(unix)]
    #[test]
    fn command_script_runs_under_sh() {
        // The quoting is proven by a real shell: `exec` replaced by `printf` of each argument.
        let s = command_script("/bin/rdpl", "a 'b' $c `d` \\e %f");
        let s = s.replace("exec ", "printf '%s\\n' ");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&s)
            .output()
            .expect("sh runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "/bin/rdpl\nconnect\na 'b' $c `d` \\e %f\n"
        );
    }

    #[test]
    fn cmd_script_text() {
        let s = cmd_script(r"C:\Users\al\.cargo\bin\rdpl.exe", "web 01 & 100%").expect("script");
        insta::assert_snapshot!(s.replace("\r\n", "\n"), @r#"
        @echo off
        rem written by `rdpl shortcut` for the profile web 01 & 100%%
        rem Remove it with: rdpl shortcut "web 01 & 100%%" --remove
        setlocal DisableDelayedExpansion
        "C:\Users\al\.cargo\bin\rdpl.exe" connect "web 01 & 100%%"
        set RDPL_EXIT=%ERRORLEVEL%
        if not %RDPL_EXIT%==0 pause
        exit /b %RDPL_EXIT%
        "#);
        assert!(s.ends_with("\r\n") && !s.replace("\r\n", "").contains('\n'));
        assert!(is_managed(&s, "web 01 & 100%"));
    }

    #[test]
    fn cmd_script_switches_to_utf8_for_non_ascii() {
        let s = cmd_script(r"C:\Users\Jürgen\rdpl.exe", "Büro").expect("script");
        assert!(s.contains("chcp 65001 >nul\r\n\"C:\\Users\\Jürgen\\rdpl.exe\" connect \"Büro\""));
        assert!(s.contains("chcp %RDPL_OLD_CP% >nul"));
    }

    #[test]
    fn cmd_refuses_what_it_cannot_quote() {
        assert_eq!(cmd_quote("a\"b"), None);
        assert_eq!(cmd_script("C:\\rdpl.exe", "a\nb"), None);
    }
}
