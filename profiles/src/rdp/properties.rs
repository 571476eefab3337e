//! The table behind the property catalogue (see catalogue.rs; the entry types are in spec.rs): name, type,
//! allowed values, risk, summary, source. Order matters: it is the order in which rdpl renders .rdp files
//! (roughly the order mstsc writes them: display, connection, security, gateway, redirection, RemoteApp, the
//! rest).
//!
//! `Source::MsLearn` marks the properties listed on Microsoft Learn's "Supported RDP properties"
//! (learn.microsoft.com/azure/virtual-desktop/rdp-properties) or "Supported Remote Desktop RDP file
//! settings" (learn.microsoft.com/windows-server/remote/remote-desktop-services/clients/rdp-files).
//! Every other entry says where the name is known from; only facts (names, types, values) were taken.

use super::spec::Allowed::{Any, OneOf, Range};
use super::spec::Risk::{
    Connection as Conn, Credential as Cred, High, Low, Redirection as Redir, Security as Sec,
    Signature as Sig,
};
use super::spec::ValueType::{Bin as B, Int as I, Str as S};
use super::spec::{Allowed, PropertySpec, Risk, Source, ValueType};

const fn p(
    name: &'static str,
    ty: ValueType,
    allowed: Allowed,
    risk: Risk,
    summary: &'static str,
    source: Source,
) -> PropertySpec {
    PropertySpec {
        name,
        ty,
        allowed,
        risk,
        summary,
        source,
    }
}

/// An on/off flag.
const BOOL: Allowed = OneOf(&[0, 1]);
/// Colour depths mstsc offers.
const BPP: Allowed = OneOf(&[8, 15, 16, 24, 32]);
/// `authentication level`: 0 connect, 1 do not connect, 2 warn, 3 no requirement.
const AUTH: Allowed = Range(0, 3);
/// The scale factors Microsoft Learn lists for `desktopscalefactor`.
const SCALES: Allowed = OneOf(&[100, 125, 150, 175, 200, 250, 300, 400, 500]);

/// On one of the two Microsoft Learn pages.
const ML: Source = Source::MsLearn;
/// Parsed by FreeRDP.
const FREERDP: Source = Source::Other("FreeRDP client/common/file.c");
/// Written by mstsc into every saved file (Default.rdp), and parsed by FreeRDP.
const MSTSC: Source =
    Source::Other("undocumented; written by mstsc (Default.rdp); FreeRDP client/common/file.c");
/// Written by mstsc, not parsed by FreeRDP.
const MSTSC_ONLY: Source = Source::Other("undocumented; written by mstsc (Default.rdp)");
/// Microsoft's old Default.rdp article, and FreeRDP.
const KB: Source =
    Source::Other("Microsoft KB 885187 (settings in Default.rdp); FreeRDP client/common/file.c");
/// In the list of settings rdpsign.exe covers with its signature.
const RDPSIGN: Source = Source::Other("undocumented; in rdpsign.exe's list of signed settings");
/// Azure Virtual Desktop / Windows 365 feed files, parsed by FreeRDP.
const AVD: Source =
    Source::Other("undocumented; in Azure Virtual Desktop feed files; FreeRDP client/common/file.c");
/// Azure Virtual Desktop / Windows 365 launch files only.
const AVD_ONLY: Source =
    Source::Other("undocumented; seen in Azure Virtual Desktop / Windows 365 launch files");
/// Extensions read by Devolutions' MsRdpEx wrapper around mstsc.
const MSRDPEX: Source =
    Source::Other("MsRdpEx extended .rdp option (Devolutions/MsRdpEx README); not read by stock mstsc");
/// Microsoft's old Default.rdp article only.
const KB_ONLY: Source = Source::Other("Microsoft KB 885187 (settings in Default.rdp)");
/// RD Web Access / RemoteApp and Desktop Connections feed files.
const RDWEB: Source =
    Source::Other("undocumented; written by RD Web Access (RemoteApp and Desktop Connections)");
/// rdpsign.exe's list, and FreeRDP.
const RDPSIGN_FREERDP: Source =
    Source::Other("undocumented; in rdpsign.exe's list of signed settings; FreeRDP client/common/file.c");
/// The old spelling of `workspace id`.
const WORKSPACEID: Source = Source::Other(
    "2019 revision of the MS Learn rdp-files page; FreeRDP client/common/file.c (parses it as an integer)",
);
/// The administrative session flag.
const ADMIN: Source = Source::Other(
    "FreeRDP client/common/file.c; IRemoteDesktopClientSettings::SetRdpProperty (Microsoft Learn)",
);
/// The saved, DPAPI-encrypted password.
const PASSWORD51: Source = Source::Other(
    "undocumented; written by mstsc when a password is saved; FreeRDP client/common/file.c (field)",
);
/// The signature pair.
const SIGNED: Source = Source::Other("undocumented; appended by rdpsign.exe and RD Web Access");

#[rustfmt::skip]
pub(crate) static PROPERTIES: &[PropertySpec] = &[
    // Display.
    p("screen mode id", I, OneOf(&[1, 2]), Low, "1 to start in a window, 2 to start full screen", ML),
    p("use multimon", I, BOOL, Low, "Use all local displays for the session", ML),
    p("selectedmonitors", S, Any, Low, "Comma-separated local display IDs to use (needs use multimon)", ML),
    p("maximizetocurrentdisplays", I, BOOL, Low, "Go full screen on the displays the window spans", ML),
    p("singlemoninwindowedmode", I, BOOL, Low, "Drop to a single display when leaving full screen", ML),
    p("span monitors", I, BOOL, Low, "Stretch one desktop across all monitors (old spanning)", FREERDP),
    p("desktopwidth", I, Range(200, 8192), Low, "Width of the remote desktop in pixels", ML),
    p("desktopheight", I, Range(200, 8192), Low, "Height of the remote desktop in pixels", ML),
    p("desktop size id", I, Range(0, 4), Low, "Predefined desktop size, 0 = 640x480 up to 4 = 1600x1200", ML),
    p("session bpp", I, BPP, Low, "Colour depth in bits per pixel", KB),
    p("desktopscalefactor", I, SCALES, Low, "Scale factor of the remote session in percent (deprecated)", ML),
    p("dynamic resolution", I, BOOL, Low, "Resize the remote desktop when the local window is resized", ML),
    p("smart sizing", I, BOOL, Low, "Scale the remote desktop to fit the local window", ML),
    p("winposstr", S, Any, Low, "Saved window position (string form of a WINDOWPOS)", KB),
    p("enablesuperpan", I, BOOL, Low, "Pan a desktop larger than the window at its edges", FREERDP),
    p("superpanaccelerationfactor", I, Any, Low, "Speed of SuperPan scrolling", FREERDP),
    // Performance and experience (mstsc writes these right after the display settings).
    p("compression", I, BOOL, Low, "Use RDP bulk compression", ML),
    p("keyboardhook", I, Range(0, 3), Low, "Where Windows key combinations apply (2 = full screen only)", ML),
    p("videoplaybackmode", I, BOOL, Low, "Use RDP-efficient multimedia streaming for video playback", ML),
    p("connection type", I, Range(1, 7), Low, "Speed preset: 1 modem ... 6 LAN, 7 auto-detect", MSTSC),
    p("networkautodetect", I, BOOL, Low, "Detect the network type automatically", ML),
    p("bandwidthautodetect", I, BOOL, Low, "Detect the available bandwidth automatically", ML),
    p("displayconnectionbar", I, BOOL, Low, "Show the connection bar in full screen", KB),
    p("pinconnectionbar", I, BOOL, Low, "Keep the connection bar pinned in full screen", FREERDP),
    p("enableworkspacereconnect", I, BOOL, Low, "Reconnect to RemoteApp workspaces", MSTSC),
    p("remoteappmousemoveinject", I, Any, Low, "Inject local mouse moves into RemoteApp windows", MSTSC_ONLY),
    p("disable wallpaper", I, BOOL, Low, "Hide the remote desktop background", KB),
    p("allow font smoothing", I, BOOL, Low, "Allow ClearType font smoothing", MSTSC),
    p("allow desktop composition", I, BOOL, Low, "Allow desktop composition (Aero) in the session", MSTSC),
    p("disable full window drag", I, BOOL, Low, "Show only an outline while dragging windows", KB),
    p("disable menu anims", I, BOOL, Low, "Turn off menu and window animations", KB),
    p("disable themes", I, BOOL, Low, "Turn off visual themes", KB),
    p("disable cursor setting", I, BOOL, Low, "Turn off remote cursor settings", MSTSC),
    p("bitmapcachepersistenable", I, BOOL, Low, "Keep a persistent bitmap cache on the local disk", KB),
    p("bitmapcachesize", I, Any, Low, "Size of the bitmap cache in kilobytes", FREERDP),
    // Connection.
    p("full address", S, Any, Conn, "Name or IP address (optionally :port) of the remote computer", ML),
    p("alternate full address", S, Any, High, "Alternate name or IP address of the remote computer", ML),
    p("server port", I, Range(1, 65535), Conn, "TCP port of the remote computer", FREERDP),
    p("use redirection server name", I, BOOL, High, "Send the server name to the broker", MSTSC),
    p("loadbalanceinfo", S, Any, High, "Load balancing cookie for the connection broker", RDPSIGN_FREERDP),
    p("pcb", S, Any, High, "Preconnection blob, e.g. the ID of a Hyper-V virtual machine", RDPSIGN_FREERDP),
    p("username", S, Any, Conn, "User name to sign in with", ML),
    p("domain", S, Any, Conn, "Domain of the user account", ML),
    p("autoreconnection enabled", I, BOOL, Low, "Reconnect automatically when the connection drops", ML),
    p("autoreconnect max retries", I, Range(0, 200), Low, "How many times to try reconnecting", FREERDP),
    p("workspace id", S, Any, Conn, "ID of the RemoteApp and Desktop Connections workspace", RDWEB),
    p("workspaceid", S, Any, Conn, "Workspace ID (old spelling)", WORKSPACEID),
    p("resourceprovider", S, Any, Conn, "Azure Virtual Desktop resource provider (arm)", AVD),
    p("wvd endpoint pool", S, Any, Conn, "Azure Virtual Desktop host pool ID", AVD),
    p("geo", S, Any, Conn, "Azure Virtual Desktop geography", AVD),
    p("armpath", S, Any, Conn, "Azure Resource Manager path of the Azure Virtual Desktop resource", AVD),
    p("aadtenantid", S, Any, Conn, "Microsoft Entra tenant ID", AVD),
    p("diagnosticserviceurl", S, Any, High, "URL the client sends Azure Virtual Desktop diagnostics to", AVD),
    p("hubdiscoverygeourl", S, Any, Conn, "Azure Virtual Desktop hub discovery URL", AVD),
    p("activityhint", S, Any, Conn, "Azure Virtual Desktop activity hint for the broker", AVD),
    p("eventloguploadaddress", S, Any, High, "URL the client uploads connection event logs to", RDPSIGN),
    p("support url", S, Any, High, "Support web page shown to the user", RDPSIGN),
    p("remotedesktopname", S, Any, Low, "Display name of the connection (window title)", AVD_ONLY),
    // Security.
    p("authentication level", I, AUTH, Sec, "If server authentication fails: 0 connect, 1 stop, 2 warn", ML),
    p("prompt for credentials", I, BOOL, Sec, "Always ask for credentials", MSTSC),
    p("prompt for credentials on client", I, BOOL, Sec, "Ask for credentials before connecting", RDWEB),
    p("negotiate security layer", I, BOOL, Sec, "Negotiate the security layer with the server", MSTSC),
    p("enablecredsspsupport", I, BOOL, Sec, "Use CredSSP (Network Level Authentication) when available", ML),
    p("enablerdsaadauth", I, BOOL, Sec, "Sign in with Microsoft Entra ID", ML),
    p("targetisaadjoined", I, BOOL, Sec, "Allow user name and password sign-in to Entra-joined hosts", ML),
    p("disableconnectionsharing", I, BOOL, Sec, "Start a new session instead of reconnecting", ML),
    p("administrative session", I, BOOL, Sec, "Connect to the administrative (console) session", ADMIN),
    p("connect to console", I, BOOL, Sec, "Connect to the console session (old name)", FREERDP),
    p("public mode", I, BOOL, Low, "Do not keep credentials or caches on this computer", FREERDP),
    p("clientrejectinjectedinput", I, Any, Sec, "Reject input injected by other local programs", AVD_ONLY),
    p("disablecredentialsdelegation", I, BOOL, Sec, "Do not delegate credentials through CredSSP", MSRDPEX),
    p("redirectedauthentication", I, BOOL, Sec, "Use Remote Credential Guard", MSRDPEX),
    p("restrictedlogon", I, BOOL, Sec, "Use Restricted Admin mode", MSRDPEX),
    p("userspecifiedservername", S, Any, High, "Server name used for TLS and Kerberos validation", MSRDPEX),
    // Gateway.
    p("gatewayhostname", S, Any, Conn, "Host name of the Remote Desktop gateway", ML),
    p("gatewayusagemethod", I, Range(0, 4), Conn, "When to use the gateway: 0 and 4 never, 1 always, 2 when direct fails, 3 the client's defaults", ML),
    p("gatewayusername", S, Any, Conn, "User name for the RD Gateway, when it is not the computer's", MSTSC_ONLY),
    p("gatewaycredentialssource", I, Range(0, 5), Conn, "How to authenticate to the gateway", ML),
    p("gatewayprofileusagemethod", I, BOOL, Conn, "0 default gateway settings, 1 the file's", ML),
    p("promptcredentialonce", I, BOOL, Sec, "Use the same credentials for the gateway and the computer", ML),
    p("gatewaybrokeringtype", I, Any, Conn, "Gateway brokering type", MSTSC_ONLY),
    p("rdgiskdcproxy", I, BOOL, Conn, "The gateway also acts as Kerberos KDC proxy", MSTSC),
    p("kdcproxyname", S, Any, High, "Fully qualified name of a Kerberos KDC proxy", ML),
    p("gatewayaccesstoken", S, Any, Cred, "Access token for the gateway", FREERDP),
    p("require pre-authentication", I, BOOL, Conn, "Require pre-authentication before connecting", RDPSIGN),
    p("pre-authentication server address", S, Any, High, "Address of the pre-authentication server", RDPSIGN),
    // Device redirection.
    p("audiomode", I, Range(0, 2), Low, "Where to play sound: 0 local, 1 remote, 2 nowhere", ML),
    p("audioqualitymode", I, Any, Low, "Audio playback quality: 0 dynamic, 1 medium, 2 high", FREERDP),
    p("audiocapturemode", I, BOOL, Redir, "Redirect the local microphone", ML),
    p("camerastoredirect", S, Any, Redir, "Cameras to redirect (* for all)", ML),
    p("encode redirected video capture", I, BOOL, Low, "Encode redirected camera video", ML),
    p("redirected video capture encoding quality", I, Range(0, 2), Low, "Camera video quality", ML),
    p("redirectprinters", I, BOOL, Redir, "Redirect local printers", ML),
    p("disableprinterredirection", I, BOOL, Low, "1 turns printer redirection off (inverted)", FREERDP),
    p("redirectlocation", I, BOOL, Redir, "Send the local device's location to the session", ML),
    p("redirectcomports", I, BOOL, Redir, "Redirect serial (COM) ports", ML),
    p("redirectsmartcards", I, BOOL, Redir, "Redirect smart cards", ML),
    p("redirectwebauthn", I, BOOL, Redir, "Send WebAuthn requests to local authenticators", ML),
    p("redirectclipboard", I, BOOL, Redir, "Share the clipboard", ML),
    p("disableclipboardredirection", I, BOOL, Low, "1 turns clipboard redirection off (inverted)", FREERDP),
    p("redirectposdevices", I, BOOL, Redir, "Redirect Point of Service devices", MSTSC),
    p("redirectdirectx", I, BOOL, Low, "Redirect DirectX graphics", RDPSIGN_FREERDP),
    p("redirectdrives", I, BOOL, Redir, "Redirect local drives (old on/off switch)", KB),
    p("drivestoredirect", S, Any, Redir, "Drives to redirect (* for all, DynamicDrives, C:\\;E:\\;)", ML),
    p("devicestoredirect", S, Any, Redir, "Plug and Play, MTP and PTP devices to redirect", ML),
    p("usbdevicestoredirect", S, Any, Redir, "USB devices to redirect at low level", ML),
    // RemoteApp.
    p("remoteapplicationmode", I, BOOL, High, "Start a RemoteApp session instead of a desktop", ML),
    p("remoteapplicationname", S, Any, High, "Display name of the RemoteApp", ML),
    p("remoteapplicationprogram", S, Any, High, "Alias or executable name of the RemoteApp", ML),
    p("remoteapplicationguid", S, Any, High, "GUID of the RemoteApp", RDPSIGN_FREERDP),
    p("remoteapplicationcmdline", S, Any, High, "Command-line parameters for the RemoteApp", ML),
    p("remoteapplicationexpandcmdline", I, BOOL, High, "Expand variables in cmdline (1 = remotely)", ML),
    p("remoteapplicationexpandworkingdir", I, BOOL, High, "Expand variables in workdir (1 = remotely)", ML),
    p("remoteapplicationfile", S, Any, High, "File the RemoteApp opens on the remote computer", ML),
    p("remoteapplicationfileextensions", S, Any, High, "File extensions the RemoteApp opens", RDPSIGN),
    p("remoteapplicationicon", S, Any, High, "Icon file (.ico) shown while the RemoteApp starts", ML),
    p("disableremoteappcapscheck", I, BOOL, Low, "Skip the server RemoteApp support check", FREERDP),
    p("alternate shell", S, Any, High, "Program started instead of the Explorer shell", ML),
    p("shell working directory", S, Any, High, "Working directory of the alternate shell or RemoteApp", KB),
    // The rest.
    p("auto connect", I, Any, Low, "Unused by desktop clients", KB_ONLY),
    p("disable ctrl+alt+del", I, BOOL, Low, "Do not require Ctrl+Alt+Del before signing in", FREERDP),
    p("disableudptransport", I, BOOL, Low, "Use TCP only, never the UDP transport", MSRDPEX),
    p("connecttochildsession", I, BOOL, Low, "Connect to a child session", MSRDPEX),
    p("enablehardwaremode", I, BOOL, Low, "Use the DirectX client presenter (0 forces GDI)", MSRDPEX),
    p("endpointfedauth", S, Any, Cred, "Federated authentication token for the endpoint", FREERDP),
    p("password", S, Any, Cred, "Password in plain text (FreeRDP extension)", FREERDP),
    p("password 51", B, Any, Cred, "Saved password, encrypted with the Windows DPAPI", PASSWORD51),
    p("cleartextpassword", S, Any, Cred, "Password in plain text (testing only)", MSRDPEX),
    p("gatewaypassword", S, Any, Cred, "Gateway password in plain text (testing only)", MSRDPEX),
    p("signscope", S, Any, Sig, "Names of the settings covered by the signature", SIGNED),
    p("signature", S, Any, Sig, "Signature over the settings named in signscope", SIGNED),
];
