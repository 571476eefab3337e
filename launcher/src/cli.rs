//! The command line (clap). Parsing only: what each command does lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::EXIT_CODES_HELP;

/// rdpl: pre-flighted RDP connections from per-host profiles.
#[derive(Debug, Parser)]
#[command(name = "rdpl", version, about, after_help = EXIT_CODES_HELP, max_term_width = 100)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Where profiles live [env: RDPL_CONFIG_DIR] [default: the OS config dir, e.g. ~/.config/rdpl]
    #[arg(long, global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Resolve names through this DNS server instead of the system's [env: RDPL_DNS_SERVER]
    #[arg(long, global = true, value_name = "IP[:PORT]")]
    pub dns_server: Option<String>,
    /// More log output (-v info, -vv debug, -vvv trace), on stderr
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Less output (errors only)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,
    /// When to use colour (NO_COLOR is honoured with `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
}

/// `--color`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colour on terminals only.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage connection profiles
    #[command(subcommand)]
    Profile(ProfileCmd),
    /// Create a profile from an .rdp file (sanitized first; lists what it dropped)
    Import(ImportArgs),
    /// Clean an untrusted .rdp file and report every property removed, changed or forced off
    Sanitize(SanitizeArgs),
    /// Pre-flight a target and write the sanitized .rdp file `connect` would hand to mstsc
    Rdp(RdpArgs),
    /// Pre-flight targets: DNS, TCP, RDP security protocols, TLS, certificate, RD Gateway
    Check(CheckArgs),
    /// Certificate pins: trust on first use, like SSH's known_hosts
    #[command(subcommand)]
    Pin(PinCmd),
    /// What an RDP error code means: mstsc and extended disconnect codes, ERRINFO, negotiation failures, RD
    /// Gateway HRESULTs, FreeRDP and xfreerdp codes, CredSSP/NTSTATUS/SSPI
    #[command(
        after_help = "Examples:\n  rdpl explain 0x904 0x7\n  rdpl explain 147\n  rdpl explain 0x800759DA"
    )]
    Explain(ExplainArgs),
    /// Pre-flight a target and rank the likely causes of a failure, with client and server fixes
    Doctor(DoctorArgs),
    /// Log on with rdpl's own session and save the settled screen as a PNG file
    Screenshot(ScreenshotArgs),
    /// Pre-flight, decide, clear stale credentials, write the sanitized .rdp and start the RDP client
    Connect(ConnectArgs),
    /// Open an .rdp file safely (the double-click handler): sanitize, pre-flight, connect
    Open(OpenArgs),
    /// Saved passwords in the OS keyring (never printed)
    #[command(subcommand)]
    Creds(CredsCmd),
    /// Make rdpl the handler of .rdp files for this user (a desktop entry and MIME type, or a file association)
    Integrate(IntegrateArgs),
    /// Write a desktop launcher that connects to one profile
    Shortcut(ShortcutArgs),
    /// Serve the pre-flight as Prometheus probes: /probe?target=PROFILE, /sd (service discovery), /metrics
    #[command(after_help = EXPORTER_HELP)]
    Exporter(ExporterArgs),
    /// Check a built-in loopback RDP endpoint and show the profile -> .rdp path, on a throw-away config dir
    Demo,
    /// Print a shell completion script (e.g. `rdpl completions bash > /etc/bash_completion.d/rdpl`)
    Completions(CompletionsArgs),
    /// Print the man page (roff; e.g. `rdpl man > /usr/local/share/man/man1/rdpl.1`)
    Man,
}

/// `rdpl completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The per-run certificate decisions `rdp`, `connect` and `open` share.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct CertFlags {
    /// Go ahead although the pinned certificate changed (this run only)
    #[arg(long)]
    pub accept_changed_cert: bool,
    /// Go ahead although the certificate expired or is not yet valid (this run only)
    #[arg(long)]
    pub accept_expired_cert: bool,
    /// Treat a certificate seen for the first time as blocking until it is pinned with `rdpl pin accept`
    #[arg(long)]
    pub strict_pin: bool,
}

/// `--with`: `auto` (the profile's choice, else the platform's client), `mstsc`, `xfreerdp` (any FreeRDP
/// client, FreeRDP 3 first), a FreeRDP program (`xfreerdp3`, `sdl-freerdp3`, `wlfreerdp3`) or an absolute path
/// to one, `macos` (the Windows App), `native` (rdpl's own IronRDP session). `None` is `auto`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WithClient(pub Option<rdpl_profiles::profile::ClientChoice>);

fn parse_with(s: &str) -> Result<WithClient, String> {
    let c: rdpl_profiles::profile::ClientChoice = s.parse()?;
    Ok(WithClient(
        (c.backend != rdpl_profiles::profile::Backend::Auto).then_some(c),
    ))
}

/// How `connect` and `open` connect.
#[derive(Debug, Args)]
pub struct ConnectOpts {
    /// Show the plan, the credentials it would clear, the client command and the .rdp file; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The client to hand the connection to: auto, mstsc, xfreerdp (any FreeRDP, 3 first), xfreerdp3,
    /// sdl-freerdp3, wlfreerdp3, an absolute path to a FreeRDP client, macos or native
    #[arg(long = "with", value_parser = parse_with, default_value = "auto", value_name = "CLIENT")]
    pub with: WithClient,
    /// Don't clear stale saved credentials
    #[arg(long)]
    pub keep_creds: bool,
    /// Read the password from standard input (one line) instead of the keyring
    #[arg(long)]
    pub password_stdin: bool,
    /// Save the password given with --password-stdin in the keyring (and, for mstsc, keep mstsc's copy)
    #[arg(long)]
    pub save_password: bool,
    /// Connect to the console (admin) session
    #[arg(long)]
    pub admin: bool,
    /// Full screen
    #[arg(short = 'f', long)]
    pub full_screen: bool,
    /// Use all monitors
    #[arg(long)]
    pub multimon: bool,
    /// Time budget for the pre-flight
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// Print JSON: with --dry-run the plan and the command; otherwise, at the end, how the client ended (its
    /// exit status and, when it failed, the diagnosis)
    #[arg(long)]
    pub json: bool,
    /// Certificate decisions for this run.
    #[command(flatten)]
    pub cert: CertFlags,
}

/// `rdpl connect`
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// A profile name or HOST[:PORT]
    pub target: String,
    /// How to connect.
    #[command(flatten)]
    pub opts: ConnectOpts,
}

/// `rdpl open`
#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The .rdp file
    pub file: PathBuf,
    /// Keep this high-risk or redirection property as the file sets it (repeatable)
    #[arg(long, value_name = "PROPERTY")]
    pub allow: Vec<String>,
    /// How to connect.
    #[command(flatten)]
    pub opts: ConnectOpts,
}

/// `rdpl creds ...`
#[derive(Debug, Subcommand)]
pub enum CredsCmd {
    /// Save the password of a profile's user (asked without echo, or read from standard input)
    Set(CredsSetArgs),
    /// Delete the saved password of a target (and, with --mstsc, mstsc's saved credentials for its host)
    Clear(CredsClearArgs),
    /// List saved credentials (accounts and stores, never passwords)
    #[command(alias = "ls")]
    List(JsonArg),
}

/// `rdpl creds set`
#[derive(Debug, Args)]
pub struct CredsSetArgs {
    /// A profile name or HOST[:PORT]
    pub target: String,
    /// The user [default: the profile's]
    #[arg(long)]
    pub user: Option<String>,
    /// The domain [default: the profile's]
    #[arg(long)]
    pub domain: Option<String>,
    /// Read the password from standard input (one line)
    #[arg(long)]
    pub password_stdin: bool,
    /// Save the RD Gateway's own password (the profile's gateway.user account) instead; FreeRDP gets it on
    /// standard input after the connection's
    #[arg(long)]
    pub gateway: bool,
}

/// `rdpl creds clear`
#[derive(Debug, Args)]
pub struct CredsClearArgs {
    /// A profile name or HOST[:PORT]
    pub target: String,
    /// Also delete mstsc's TERMSRV/<host> credentials and remembered certificate for every spelling of the
    /// host (Windows)
    #[arg(long)]
    pub mstsc: bool,
}

/// `rdpl integrate`
#[derive(Debug, Args)]
pub struct IntegrateArgs {
    /// Remove the integration instead
    #[arg(long)]
    pub uninstall: bool,
    /// Show what would be written or run, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Make mstsc trust rdpl's .rdp publisher (created if needed): print its SHA-1 thumbprint and add it to
    /// the "trusted .rdp publishers" policy where this user may write it, else print the administrator's
    /// command
    #[arg(long, conflicts_with_all = ["uninstall", "print_desktop_entry", "print_mime"])]
    pub trust_publisher: bool,
    /// For packagers: print the system-wide desktop entry that runs EXE (e.g. /usr/bin/rdpl) and exit
    #[arg(long, value_name = "EXE", hide = true, conflicts_with_all = ["uninstall", "dry_run", "print_mime"])]
    pub print_desktop_entry: Option<String>,
    /// For packagers: print the shared-mime-info package that declares application/x-rdp and exit
    #[arg(long, hide = true, conflicts_with_all = ["uninstall", "dry_run"])]
    pub print_mime: bool,
}

/// `rdpl shortcut`
#[derive(Debug, Args)]
pub struct ShortcutArgs {
    /// The profile
    pub profile: String,
    /// Where to write the launcher [default: the desktop, else the applications menu directory]
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Remove the launcher instead
    #[arg(long)]
    pub remove: bool,
}

/// `rdpl check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Profile names or HOST[:PORT]
    #[arg(required_unless_present = "all")]
    pub targets: Vec<String>,
    /// Check every profile
    #[arg(long, conflicts_with = "targets")]
    pub all: bool,
    /// Print JSON (an object for one target, an array for several)
    #[arg(long)]
    pub json: bool,
    /// Time budget for the whole check of one target (e.g. 10s, 1500ms)
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// How many targets to check at once
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub jobs: usize,
    /// Also log on with rdpl's own session until the first frame is drawn (one target; the password comes
    /// from the keyring or --password-stdin)
    #[arg(long, conflicts_with = "all")]
    pub login: bool,
    /// With --login: read the password from standard input (one line)
    #[arg(long, requires = "login")]
    pub password_stdin: bool,
    /// Certificate decisions for this run (--login).
    #[command(flatten)]
    pub cert: CertFlags,
}

const EXPORTER_HELP: &str = "\
Endpoints:
  /probe?target=PROFILE[&module=default|direct]   the same pre-flight as `rdpl check PROFILE`, as metrics
  /sd        Prometheus HTTP service discovery: every profile, labelled with its host, gateway and backend
  /metrics   the exporter's own metrics (rdpl_exporter_*)
A probe's time budget is Prometheus's X-Prometheus-Scrape-Timeout-Seconds header minus 0.5 s (else
--timeout). Targets that are not profiles are refused (HTTP 400) without any connection unless
--allow-adhoc. No password ever goes through the exporter. Scrape config, alert rules, dashboard and a
systemd unit: docs/monitoring.md.";

/// `rdpl exporter`
#[derive(Debug, Args)]
pub struct ExporterArgs {
    /// Where to listen (an IPv6 address in brackets: [::1]:9871; port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:9871", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// Also probe HOST[:PORT] targets that are not profiles (anyone who can reach the exporter can then make
    /// it connect anywhere)
    #[arg(long)]
    pub allow_adhoc: bool,
    /// At most this many pre-flights at once; more requests wait for a slot within their scrape timeout
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub max_concurrent: u16,
    /// A probe's time budget when the request has no X-Prometheus-Scrape-Timeout-Seconds header
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s", value_name = "DURATION")]
    pub timeout: std::time::Duration,
}

/// `rdpl screenshot`
#[derive(Debug, Args)]
pub struct ScreenshotArgs {
    /// A profile name or HOST[:PORT]
    pub target: String,
    /// The PNG file to write
    #[arg(short, long, value_name = "FILE.png")]
    pub output: PathBuf,
    /// Read the password from standard input (one line) instead of the keyring
    #[arg(long)]
    pub password_stdin: bool,
    /// The desktop size to ask for
    #[arg(long, value_parser = parse_size, default_value = "1024x768", value_name = "WxH")]
    pub size: (u16, u16),
    /// The screen has settled when nothing was drawn for this long
    #[arg(long, value_parser = parse_duration, default_value = "1s", value_name = "DURATION")]
    pub settle: std::time::Duration,
    /// Take the picture at the latest this long after the first frame, settled or not
    #[arg(long, value_parser = parse_duration, default_value = "15s", value_name = "DURATION")]
    pub max_wait: std::time::Duration,
    /// Time budget for the pre-flight and for the connection
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// Log on automatically with the credentials on servers without NLA (xrdp, Windows with NLA off)
    #[arg(long)]
    pub autologon: bool,
    /// Print the login outcome and the picture written as JSON
    #[arg(long)]
    pub json: bool,
    /// Certificate decisions for this run.
    #[command(flatten)]
    pub cert: CertFlags,
}

/// The longest duration an option takes: a day. Deadlines are `Instant + duration`, which overflows (and
/// panics) for absurd values such as `18446744073709551615s`; no probe or session step needs more.
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// A `DURATION` option (`10s`, `1m 30s`, `500ms`): humantime's syntax, at most [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (e.g. 10s, 1m, 500ms)"))?;
    if d > MAX_DURATION {
        return Err(format!(
            "{} is longer than the longest duration rdpl takes ({})",
            humantime::format_duration(d),
            humantime::format_duration(MAX_DURATION)
        ));
    }
    Ok(d)
}

/// `WIDTHxHEIGHT`, each 200..=8192.
pub fn parse_size(s: &str) -> Result<(u16, u16), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{s}` is not WIDTHxHEIGHT (e.g. 1920x1080)"))?;
    let n = |v: &str| {
        v.trim()
            .parse::<u16>()
            .ok()
            .filter(|n| (200..=8192).contains(n))
            .ok_or_else(|| format!("`{v}` is not a size between 200 and 8192"))
    };
    Ok((n(w)?, n(h)?))
}

/// `rdpl doctor`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// A profile name or HOST[:PORT]
    pub target: String,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Time budget for the pre-flight
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// Also log on with rdpl's own session (password from the keyring or --password-stdin), so that
    /// rejected credentials and server-side refusals are found too
    #[arg(long)]
    pub login: bool,
    /// With --login: read the password from standard input (one line)
    #[arg(long, requires = "login")]
    pub password_stdin: bool,
    /// The error code the client showed (mstsc's "error code" 0x904, or FreeRDP's exit status with
    /// --client xfreerdp): evidence next to the pre-flight
    #[arg(long, value_parser = parse_code_arg, value_name = "CODE")]
    pub code: Option<u32>,
    /// mstsc's "extended error code" (0x7 = the server denied the connection)
    #[arg(long, value_parser = parse_code_arg, value_name = "EXT", requires = "code")]
    pub extended: Option<u32>,
    /// Which client showed the code
    #[arg(long, value_enum, default_value_t = CodeClient::Mstsc, requires = "code")]
    pub client: CodeClient,
}

/// `doctor --client`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CodeClient {
    /// mstsc or the Windows App: a disconnect reason (and an extended code)
    Mstsc,
    /// FreeRDP (xfreerdp, xfreerdp3, ...): its exit status
    Xfreerdp,
}

fn parse_code_arg(s: &str) -> Result<u32, String> {
    rdpl_core::explain::parse_code(s)
}

/// `rdpl explain`
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code: hex (0x904, 904h) or decimal, as the dialog or log shows it
    pub code: String,
    /// The extended code, if the dialog shows one
    pub extended: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `rdpl pin ...`
#[derive(Debug, Subcommand)]
pub enum PinCmd {
    /// List pinned certificates
    List(JsonArg),
    /// Connect, and pin the certificate the target presents now (replacing an older pin)
    Accept(PinTargetArgs),
    /// Forget the pin of a target
    Forget(PinTargetArgs),
}

/// A pin target.
#[derive(Debug, Args)]
pub struct PinTargetArgs {
    /// A profile name or HOST[:PORT]
    pub target: String,
    /// Time budget for connecting (with `accept`)
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// Print the pin (and the one it replaced) as JSON
    #[arg(long)]
    pub json: bool,
}

/// `rdpl profile ...`
#[derive(Debug, Subcommand)]
pub enum ProfileCmd {
    /// Add a profile
    Add(ProfileAddArgs),
    /// List profiles
    #[command(alias = "ls")]
    List(JsonArg),
    /// Show one profile
    Show(ProfileShowArgs),
    /// Change settings: KEY=VALUE (an empty VALUE clears an optional setting)
    #[command(after_help = SET_HELP)]
    Set(ProfileSetArgs),
    /// Delete a profile
    #[command(alias = "remove")]
    Rm(ProfileNameArg),
    /// Rename a profile
    #[command(alias = "mv")]
    Rename(ProfileRenameArgs),
}

const SET_HELP: &str = "\
Keys:
  host, port, fallback (comma-separated), alternate, user, domain,
  password.command, gateway.password.command (a vault: `pass show corp/alice`; its first line is the password,
  see docs/credentials.md),
  backend (auto|mstsc|xfreerdp|xfreerdp3|sdl-freerdp3|wlfreerdp3|/path/to/freerdp|macos|native: xfreerdp = any FreeRDP, 3 first),
  gateway (HOST[:PORT]), gateway.usage (always|detect|default|never), gateway.user, gateway.domain (the gateway's own
  account; its password: `rdpl creds set NAME --gateway`), nla, udp (auto|on|off), link (normal|vpn|flaky: udp=auto turns UDP off on vpn/flaky),
  tls.legacy (deny|allow: let FreeRDP and mstsc use TLS 1.0/1.1 with a server that speaks nothing newer),
  redirect.clipboard|printers|smart_cards|ports|usb|cameras|webauthn|pos_devices|location|microphone (on|off),
  redirect.drives (C:,D: or *), redirect.audio (local|remote|off),
  display.width, display.height, display.full_screen, display.multimon,
  sign.cert, sign.key (absolute paths: the certificate that signs .rdp files for mstsc; see `rdpl rdp --sign`),
  rdp.<low-risk .rdp property> (e.g. \"rdp.session bpp=24\")

Example:
  rdpl profile set web01 user=alice nla=on redirect.drives=C:";

/// `--json`
#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `rdpl profile add`
#[derive(Debug, Args)]
pub struct ProfileAddArgs {
    /// The profile name (letters, digits, spaces, `.`, `-`, `_`; no path separators)
    pub name: String,
    /// Host name or IP address, optionally HOST:PORT
    #[arg(long)]
    pub host: String,
    /// RDP port [default: 3389]
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to try when the host fails (repeatable, in order)
    #[arg(long = "fallback", value_name = "ADDR")]
    pub fallbacks: Vec<String>,
    /// Alternate address
    #[arg(long, value_name = "ADDR")]
    pub alternate: Option<String>,
    /// User name
    #[arg(long)]
    pub user: Option<String>,
    /// Domain
    #[arg(long)]
    pub domain: Option<String>,
    /// RD Gateway, HOST[:PORT]
    #[arg(long)]
    pub gateway: Option<String>,
    /// Network Level Authentication
    #[arg(long, value_name = "auto|on|off")]
    pub nla: Option<String>,
    /// UDP transport
    #[arg(long, value_name = "auto|on|off")]
    pub udp: Option<String>,
    /// Preferred client: auto, mstsc, xfreerdp (any FreeRDP, 3 first), xfreerdp3, sdl-freerdp3, wlfreerdp3, a
    /// path to a FreeRDP client, macos or native
    #[arg(long = "with", value_name = "CLIENT")]
    pub backend: Option<String>,
    /// Print the new profile as JSON (as `profile show --json`)
    #[arg(long)]
    pub json: bool,
}

/// `rdpl profile show`
#[derive(Debug, Args)]
pub struct ProfileShowArgs {
    /// The profile
    pub name: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `rdpl profile set`
#[derive(Debug, Args)]
pub struct ProfileSetArgs {
    /// The profile
    pub name: String,
    /// Settings to change
    #[arg(required = true, value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
    /// Print the changed profile as JSON (as `profile show --json`)
    #[arg(long)]
    pub json: bool,
}

/// A profile name.
#[derive(Debug, Args)]
pub struct ProfileNameArg {
    /// The profile
    pub name: String,
}

/// `rdpl profile rename`
#[derive(Debug, Args)]
pub struct ProfileRenameArgs {
    /// The current name
    pub old: String,
    /// The new name
    pub new: String,
}

/// `rdpl import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The .rdp file, or a Remmina `.remmina`, mRemoteNG `confCons.xml` or RDCMan `.rdg` file (recognised by
    /// content; every RDP connection in it becomes a profile) (`-` for standard input)
    pub file: PathBuf,
    /// The profile name [default: from the file name, or each connection's name in the file]
    #[arg(long)]
    pub name: Option<String>,
    /// Keep this high-risk or redirection property as the file sets it (repeatable)
    #[arg(long, value_name = "PROPERTY")]
    pub allow: Vec<String>,
    /// Show what would be created without creating it
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `rdpl sanitize`
#[derive(Debug, Args)]
pub struct SanitizeArgs {
    /// The .rdp file (`-` for standard input)
    pub file: PathBuf,
    /// Write the clean file here (UTF-16LE with BOM, as mstsc writes); `-` prints it as text instead
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Keep this high-risk or redirection property as the file sets it (repeatable)
    #[arg(long, value_name = "PROPERTY")]
    pub allow: Vec<String>,
    /// Print the report (and the clean file) as JSON
    #[arg(long)]
    pub json: bool,
}

/// `rdpl rdp`
#[derive(Debug, Args)]
pub struct RdpArgs {
    /// A profile name, or HOST[:PORT]
    pub target: String,
    /// Write the file here (UTF-16LE with BOM, CRLF); without it the text goes to standard output
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Build the file from the profile alone, without pre-flight
    #[arg(long)]
    pub offline: bool,
    /// Time budget for the pre-flight
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// Certificate decisions for this run.
    #[command(flatten)]
    pub cert: CertFlags,
    /// Sign the file as rdpsign.exe does, with this certificate: a PEM file with the certificate and its
    /// private key (or the key in --key), or a PFX/PKCS#12 file [default: the profile's sign.cert]
    #[arg(long, value_name = "CERT")]
    pub sign: Option<PathBuf>,
    /// The PEM private key for --sign, when the certificate file holds none
    #[arg(long, value_name = "KEY", requires = "sign")]
    pub key: Option<PathBuf>,
    /// Read the PFX password from standard input (or set RDPL_PFX_PASSWORD; never on the command line)
    #[arg(long)]
    pub pfx_password_stdin: bool,
    /// Print what was decided and written as JSON (the file's text included)
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_beyond_a_day_are_refused_when_parsed() {
        assert_eq!(parse_duration("10s"), Ok(std::time::Duration::from_secs(10)));
        assert_eq!(parse_duration("24h"), Ok(MAX_DURATION));
        for absurd in ["18446744073709551615s", "25h", "100000d", "584942417355y"] {
            let e = parse_duration(absurd).expect_err(absurd);
            assert!(
                e.contains("longer than") || e.contains("too large"),
                "{absurd}: {e}"
            );
        }
        let e = Cli::try_parse_from(["rdpl", "check", "x", "--timeout", "18446744073709551615s"])
            .expect_err("refused at parse time");
        assert_eq!(e.exit_code(), 2, "{e}");
    }
}
