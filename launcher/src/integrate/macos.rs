//! macOS: what `rdpl integrate` can honestly do there, which is explain.
//!
//! LaunchServices binds a file type to an *application bundle* (an `.app` with an `Info.plist` declaring
//! the document type), and `LSSetDefaultRoleHandlerForContentType` takes a bundle identifier; a bare
//! command-line executable has none, so it cannot become the handler of .rdp files. Building and signing
//! a wrapper app is out of scope; the explanation names the ways that work.

/// The lines `rdpl integrate` prints on macOS.
pub fn explanation(exe: &str) -> Vec<String> {
    vec![
        "rdpl cannot make itself the handler of .rdp files on macOS: LaunchServices only assigns file types \
         to application bundles (.app), and rdpl is a command-line program."
            .to_owned(),
        "What works:".to_owned(),
        format!(
            "  - open a file through rdpl from Terminal: {} open FILE.rdp",
            super::script::sh_quote(exe)
        ),
        "  - a desktop launcher per profile: rdpl shortcut PROFILE (writes PROFILE.command on the Desktop)"
            .to_owned(),
        format!(
            "  - to make a double-click run rdpl, wrap it in an app bundle (Platypus, or Automator > Application > \
             Run Shell Script with `{} open \"$@\"`, input as arguments), then select an .rdp file in Finder > \
             File > Get Info > Open with > that app > Change All... (or `duti -s BUNDLE_ID .rdp all`)",
            super::script::sh_quote(exe)
        ),
        "Nothing was changed.".to_owned(),
    ]
}
