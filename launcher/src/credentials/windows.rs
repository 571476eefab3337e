//! Windows: what mstsc keeps between connections. Its `TERMSRV/<host>` credentials in the Credential Manager
//! (listed, deleted, and written when rdpl pre-seeds mstsc with a password), its per-server registry keys
//! under `HKCU\Software\Microsoft\Terminal Server Client\Servers` (the remembered certificate hash and user
//! name hint), and the "Turn Off UDP On Client" group policy.
//!
//! Listing never reads a credential's secret: only the target, type and user name leave this module.
//!
//! Wine note: `CredEnumerateW` under Wine packs each `CREDENTIALW` right behind the previous one's strings,
//! so records after the first can be only 2-byte aligned; they are copied out with
//! [`std::ptr::read_unaligned`] (real Windows aligns them; reading unaligned is correct on both).

use std::io;

use secrecy::{ExposeSecret, SecretString};
use windows_sys::Win32::Foundation::{ERROR_NOT_FOUND, FILETIME};
use windows_sys::Win32::Security::Credentials::{
    CRED_PERSIST_LOCAL_MACHINE, CRED_PERSIST_SESSION, CRED_TYPE, CRED_TYPE_DOMAIN_PASSWORD,
    CRED_TYPE_GENERIC, CREDENTIALW, CredDeleteW, CredEnumerateW, CredFree, CredWriteW,
};
use winreg::RegKey;
use winreg::enums::{HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_QUERY_VALUE, KEY_SET_VALUE, REG_BINARY};
use zeroize::Zeroizing;

use rdpl_core::stale::{MstscServer, TermsrvCred, TermsrvKind};

/// The prefix of every credential mstsc reads.
const TERMSRV: &str = "TERMSRV/";

/// mstsc's per-server keys, under `HKEY_CURRENT_USER`.
pub const SERVERS_KEY: &str = r"Software\Microsoft\Terminal Server Client\Servers";

/// The "Turn Off UDP On Client" policy key, under `HKEY_LOCAL_MACHINE` and `HKEY_CURRENT_USER`.
pub const UDP_POLICY_KEY: &str = r"SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services\Client";

/// The policy's value (a DWORD; 1 turns UDP off).
pub const UDP_POLICY_VALUE: &str = "fClientDisableUDP";

fn cred_type(kind: TermsrvKind) -> CRED_TYPE {
    match kind {
        TermsrvKind::DomainPassword => CRED_TYPE_DOMAIN_PASSWORD,
        TermsrvKind::Generic => CRED_TYPE_GENERIC,
    }
}

fn termsrv_kind(t: CRED_TYPE) -> Option<TermsrvKind> {
    match t {
        CRED_TYPE_DOMAIN_PASSWORD => Some(TermsrvKind::DomainPassword),
        CRED_TYPE_GENERIC => Some(TermsrvKind::Generic),
        _ => None,
    }
}

/// `s` as a NUL-terminated UTF-16 string.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The NUL-terminated UTF-16 string at `p` (None for a null pointer).
///
/// # Safety
/// `p` is null or points to a readable, NUL-terminated UTF-16 string (alignment is not required).
unsafe fn from_wide(p: *const u16) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let mut units = Vec::new();
    for i in 0.. {
        // SAFETY: the caller guarantees a NUL-terminated string at `p`; we stop at the NUL, so every offset
        // read is inside it. read_unaligned because Wine packs strings without padding.
        let u = unsafe { p.add(i).read_unaligned() };
        if u == 0 {
            break;
        }
        units.push(u);
    }
    Some(String::from_utf16_lossy(&units))
}

/// An error from the last Win32 call, with what rdpl was doing.
fn last_error(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

fn is_not_found(e: &io::Error) -> bool {
    e.raw_os_error() == Some(ERROR_NOT_FOUND as i32)
}

/// Every `TERMSRV/*` credential of type domain password or generic, with its user name (never its secret).
/// None at all is an empty list.
pub fn termsrv_list() -> io::Result<Vec<TermsrvCred>> {
    let filter = wide("TERMSRV/*");
    let mut count: u32 = 0;
    let mut creds: *mut *mut CREDENTIALW = std::ptr::null_mut();
    // SAFETY: `filter` is a NUL-terminated UTF-16 string that outlives the call; `count` and `creds` are valid
    // out-pointers. On success the system allocates the array, which is freed with CredFree below.
    let ok = unsafe { CredEnumerateW(filter.as_ptr(), 0, &mut count, &mut creds) };
    if ok == 0 {
        let e = io::Error::last_os_error();
        if is_not_found(&e) {
            return Ok(Vec::new());
        }
        return Err(io::Error::new(
            e.kind(),
            format!("could not list the TERMSRV/* credentials: {e}"),
        ));
    }
    /// Frees the array however the function returns.
    struct Free(*mut *mut CREDENTIALW);
    impl Drop for Free {
        fn drop(&mut self) {
            // SAFETY: the pointer came from a successful CredEnumerateW and is freed exactly once, here.
            unsafe { CredFree(self.0.cast_const().cast()) };
        }
    }
    let _free = Free(creds);
    let mut out = Vec::new();
    for i in 0..count as usize {
        // SAFETY: CredEnumerateW returned `count` record pointers in `creds`; `i < count`. The pointer array
        // itself is pointer-aligned on Windows and Wine.
        let record = unsafe { *creds.add(i) };
        if record.is_null() {
            continue;
        }
        // SAFETY: `record` points to a CREDENTIALW the system filled in, alive until CredFree. Wine may
        // place it at a 2-byte boundary, hence read_unaligned (a bitwise copy; nothing is dropped twice,
        // CREDENTIALW is plain data).
        let c: CREDENTIALW = unsafe { std::ptr::read_unaligned(record) };
        let Some(kind) = termsrv_kind(c.Type) else {
            continue;
        };
        // SAFETY: TargetName and UserName are null or NUL-terminated strings inside the same allocation.
        let (target, user) = unsafe { (from_wide(c.TargetName), from_wide(c.UserName)) };
        let Some(target) = target else { continue };
        let is_termsrv = target
            .get(..TERMSRV.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(TERMSRV));
        if !is_termsrv {
            continue;
        }
        out.push(TermsrvCred {
            target,
            kind,
            user: user.filter(|u| !u.is_empty()),
        });
    }
    out.sort_by(|a, b| (&a.target, a.kind as u8).cmp(&(&b.target, b.kind as u8)));
    Ok(out)
}

/// Deletes the credential `target` (e.g. `TERMSRV/web01`) of this type; whether it was there.
pub fn termsrv_delete(target: &str, kind: TermsrvKind) -> io::Result<bool> {
    let name = wide(target);
    // SAFETY: `name` is a NUL-terminated UTF-16 string that outlives the call.
    let ok = unsafe { CredDeleteW(name.as_ptr(), cred_type(kind), 0) };
    if ok != 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if is_not_found(&e) {
        Ok(false)
    } else {
        // The OS error as it is: callers say what they were deleting.
        Err(e)
    }
}

/// Writes `TERMSRV/<host>` for `user` with this password, the way mstsc's "Remember me" does (replacing an
/// existing one of the same type). `persist_session_only` keeps it only for this logon session.
pub fn termsrv_write(
    host: &str,
    user: &str,
    password: &SecretString,
    kind: TermsrvKind,
    persist_session_only: bool,
) -> io::Result<()> {
    let target = format!("{TERMSRV}{host}");
    let mut target_w = wide(&target);
    let mut user_w = wide(user);
    // The blob is the password in UTF-16LE without a terminator, as mstsc and cmdkey store it.
    let blob: Zeroizing<Vec<u8>> = Zeroizing::new(
        password
            .expose_secret()
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect(),
    );
    let blob_size = u32::try_from(blob.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the password is too long"))?;
    let cred = CREDENTIALW {
        Flags: 0,
        Type: cred_type(kind),
        TargetName: target_w.as_mut_ptr(),
        Comment: std::ptr::null_mut(),
        LastWritten: FILETIME {
            dwLowDateTime: 0,
            dwHighDateTime: 0,
        },
        CredentialBlobSize: blob_size,
        // CredWriteW only reads the blob; the cast to *mut is what the struct's field type asks for.
        CredentialBlob: blob.as_ptr().cast_mut(),
        Persist: if persist_session_only {
            CRED_PERSIST_SESSION
        } else {
            CRED_PERSIST_LOCAL_MACHINE
        },
        AttributeCount: 0,
        Attributes: std::ptr::null_mut(),
        TargetAlias: std::ptr::null_mut(),
        UserName: user_w.as_mut_ptr(),
    };
    // SAFETY: every pointer in `cred` points into a live buffer of this function (target_w, user_w, blob) or
    // is null with a zero count; CredWriteW copies what it needs and does not keep the pointers.
    let ok = unsafe { CredWriteW(&cred, 0) };
    if ok == 0 {
        return Err(last_error(&format!("could not save {target}")));
    }
    Ok(())
}

/// A registry error other than "not there".
fn reg_error(what: &str, e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// mstsc's remembered servers: every `Servers\<host>` key with its `CertHash` (REG_BINARY) and
/// `UsernameHint`. No `Servers` key is an empty list.
pub fn mstsc_servers() -> io::Result<Vec<MstscServer>> {
    let hkcu = RegKey::predef(HKEY_CURRENT_USER);
    let servers = match hkcu.open_subkey(SERVERS_KEY) {
        Ok(k) => k,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(reg_error(&format!(r"could not open HKCU\{SERVERS_KEY}"), &e)),
    };
    let mut out = Vec::new();
    for name in servers.enum_keys() {
        let host = name.map_err(|e| reg_error(&format!(r"could not list HKCU\{SERVERS_KEY}"), &e))?;
        let key = match servers.open_subkey(&host) {
            Ok(k) => k,
            // Deleted between listing and opening.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(reg_error(
                    &format!(r"could not open HKCU\{SERVERS_KEY}\{host}"),
                    &e,
                ));
            }
        };
        // A value of an unexpected type is treated as absent: it is not something mstsc wrote.
        let cert_hash = key
            .get_raw_value("CertHash")
            .ok()
            .filter(|v| v.vtype == REG_BINARY)
            .map(|v| v.bytes.into_owned());
        let username_hint = key
            .get_value::<String, _>("UsernameHint")
            .ok()
            .filter(|h| !h.is_empty());
        out.push(MstscServer {
            host,
            cert_hash,
            username_hint,
        });
    }
    out.sort_by(|a, b| a.host.cmp(&b.host));
    Ok(out)
}

/// Deletes the `CertHash` value of `Servers\<host>` (and nothing else); whether it was there.
pub fn clear_cert_hash(host: &str) -> io::Result<bool> {
    if host.is_empty() || host.contains('\\') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{host}` is not a server key name"),
        ));
    }
    let path = format!(r"{SERVERS_KEY}\{host}");
    let key = match RegKey::predef(HKEY_CURRENT_USER).open_subkey_with_flags(&path, KEY_SET_VALUE) {
        Ok(k) => k,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    match key.delete_value("CertHash") {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        // The OS error as it is: callers say which server's hash they were clearing.
        Err(e) => Err(e),
    }
}

/// The "Turn Off UDP On Client" policy, when set: the key that sets it (`HKLM\…` or `HKCU\…`; the machine's
/// wins) and whether it turns UDP off (`fClientDisableUDP` = 1). None when neither sets it.
pub fn udp_policy() -> io::Result<Option<(String, bool)>> {
    for (hive, label) in [(HKEY_LOCAL_MACHINE, "HKLM"), (HKEY_CURRENT_USER, "HKCU")] {
        let key = match RegKey::predef(hive).open_subkey_with_flags(UDP_POLICY_KEY, KEY_QUERY_VALUE) {
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(reg_error(
                    &format!(r"could not open {label}\{UDP_POLICY_KEY}"),
                    &e,
                ));
            }
        };
        match key.get_value::<u32, _>(UDP_POLICY_VALUE) {
            Ok(v) => return Ok(Some((format!(r"{label}\{UDP_POLICY_KEY}"), v == 1))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(reg_error(
                    &format!(r"could not read {UDP_POLICY_VALUE} of {label}\{UDP_POLICY_KEY}"),
                    &e,
                ));
            }
        }
    }
    Ok(None)
}

/// The .rdp file policies (`TrustedCertThumbprints`, `AllowSignedFiles`) for the computer and the user.
pub fn rdp_file_policy() -> io::Result<rdpl_core::mstsc::RdpFilePolicy> {
    rdp_file_policy_at(
        &[
            (RegKey::predef(HKEY_LOCAL_MACHINE), "HKLM"),
            (RegKey::predef(HKEY_CURRENT_USER), "HKCU"),
        ],
        rdpl_core::mstsc::POLICY_KEY,
    )
}

/// [`rdp_file_policy`] from `subkey` under each of `roots` (tests use a scratch key).
pub fn rdp_file_policy_at(
    roots: &[(RegKey, &str)],
    subkey: &str,
) -> io::Result<rdpl_core::mstsc::RdpFilePolicy> {
    use rdpl_core::mstsc::{ALLOW_SIGNED_FILES, TRUSTED_THUMBPRINTS};
    let mut policy = rdpl_core::mstsc::RdpFilePolicy::default();
    for (root, label) in roots {
        let at = format!(r"{label}\{subkey}");
        let key = match root.open_subkey_with_flags(subkey, KEY_QUERY_VALUE) {
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(reg_error(&format!("could not open {at}"), &e)),
        };
        match key.get_value::<String, _>(TRUSTED_THUMBPRINTS) {
            Ok(v) => policy.trusted.push((at.clone(), v)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(reg_error(
                    &format!("could not read {TRUSTED_THUMBPRINTS} of {at}"),
                    &e,
                ));
            }
        }
        match key.get_value::<u32, _>(ALLOW_SIGNED_FILES) {
            Ok(v) => policy.allow_signed.push((at.clone(), v)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(reg_error(
                    &format!("could not read {ALLOW_SIGNED_FILES} of {at}"),
                    &e,
                ));
            }
        }
    }
    Ok(policy)
}

/// What [`trust_publisher`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The thumbprint was listed already, here.
    Already(String),
    /// It was added to the value here.
    Added(String),
}

/// Adds `thumbprint` to the user's `TrustedCertThumbprints` (HKCU), keeping what is listed. Windows lets only
/// administrators write `HKCU\SOFTWARE\Policies` on managed machines: then the error is PermissionDenied.
pub fn trust_publisher(thumbprint: &str) -> io::Result<Trust> {
    trust_publisher_at(
        &RegKey::predef(HKEY_CURRENT_USER),
        "HKCU",
        rdpl_core::mstsc::POLICY_KEY,
        thumbprint,
    )
}

/// [`trust_publisher`] under `root\subkey` (tests use a scratch key).
pub fn trust_publisher_at(root: &RegKey, label: &str, subkey: &str, thumbprint: &str) -> io::Result<Trust> {
    use rdpl_core::mstsc::TRUSTED_THUMBPRINTS;
    let at = format!(r"{label}\{subkey}");
    let (key, _) = root
        .create_subkey_with_flags(subkey, KEY_QUERY_VALUE | KEY_SET_VALUE)
        .map_err(|e| reg_error(&format!("could not open {at} for writing"), &e))?;
    let current = match key.get_value::<String, _>(TRUSTED_THUMBPRINTS) {
        Ok(v) => v,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(reg_error(
                &format!("could not read {TRUSTED_THUMBPRINTS} of {at}"),
                &e,
            ));
        }
    };
    match rdpl_core::mstsc::with_thumbprint(&current, thumbprint) {
        None => Ok(Trust::Already(at)),
        Some(v) => {
            key.set_value(TRUSTED_THUMBPRINTS, &v)
                .map_err(|e| reg_error(&format!("could not write {TRUSTED_THUMBPRINTS} of {at}"), &e))?;
            Ok(Trust::Added(at))
        }
    }
}

/// The reason of the last disconnect the RDP client (mstsc) wrote to its event log within `within` of now
/// (`Microsoft-Windows-TerminalServices-RDPClient/Operational`, event 1026); `None` when there is none. An
/// error says why the log could not be read (a disabled channel, no access, an event log service Wine lacks).
pub fn last_rdp_client_disconnect(within: std::time::Duration) -> io::Result<Option<u32>> {
    use rdpl_core::doctor::code::{DISCONNECT_EVENT, RDP_CLIENT_LOG, disconnect_reason_from_event};
    use windows_sys::Win32::System::EventLog::{
        EvtClose, EvtNext, EvtQuery, EvtQueryChannelPath, EvtQueryReverseDirection, EvtRender,
        EvtRenderEventXml,
    };
    /// Closes an event-log handle on drop.
    struct Handle(isize);
    impl Drop for Handle {
        fn drop(&mut self) {
            // SAFETY: a handle EvtQuery/EvtNext returned, closed once.
            unsafe { EvtClose(self.0) };
        }
    }
    let ms = u64::try_from(within.as_millis()).unwrap_or(u64::MAX);
    let query = wide(&format!(
        "*[System[(EventID={DISCONNECT_EVENT}) and TimeCreated[timediff(@SystemTime) <= {ms}]]]"
    ));
    let path = wide(RDP_CLIENT_LOG);
    // SAFETY: NUL-terminated UTF-16 strings that outlive the call; a 0 session is the local computer.
    let results = unsafe {
        EvtQuery(
            0,
            path.as_ptr(),
            query.as_ptr(),
            EvtQueryChannelPath | EvtQueryReverseDirection,
        )
    };
    if results == 0 {
        return Err(reg_error(
            &format!("could not query the {RDP_CLIENT_LOG} event log"),
            &io::Error::last_os_error(),
        ));
    }
    let results = Handle(results);
    let mut event: isize = 0;
    let mut returned = 0u32;
    // SAFETY: room for one handle; `returned` says how many were written.
    let ok = unsafe { EvtNext(results.0, 1, &mut event, 2000, 0, &mut returned) };
    if ok == 0 || returned == 0 {
        let e = io::Error::last_os_error();
        // ERROR_NO_MORE_ITEMS: no such event in the window.
        return if e.raw_os_error() == Some(259) {
            Ok(None)
        } else {
            Err(reg_error(
                &format!("could not read the {RDP_CLIENT_LOG} event log"),
                &e,
            ))
        };
    }
    let event = Handle(event);
    let mut used = 0u32;
    let mut count = 0u32;
    // SAFETY: a size query (no buffer), then a render into a buffer of the size it asked for.
    unsafe {
        EvtRender(
            0,
            event.0,
            EvtRenderEventXml,
            0,
            std::ptr::null_mut(),
            &mut used,
            &mut count,
        )
    };
    let mut buf = vec![0u16; (used as usize).div_ceil(2).min(1 << 20)];
    let size = u32::try_from(buf.len() * 2).unwrap_or(u32::MAX);
    // SAFETY: `buf` holds `size` bytes.
    let ok = unsafe {
        EvtRender(
            0,
            event.0,
            EvtRenderEventXml,
            size,
            buf.as_mut_ptr().cast(),
            &mut used,
            &mut count,
        )
    };
    if ok == 0 {
        return Err(reg_error(
            "could not render the RDP client's disconnect event",
            &io::Error::last_os_error(),
        ));
    }
    let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    Ok(disconnect_reason_from_event(&String::from_utf16_lossy(
        &buf[..len],
    )))
}

/// Serializes the tests that write and delete credentials (here and in the mstsc backend's): Wine 8's
/// credential store is a registry tree, and a CredEnumerateW racing a write or delete in another thread
/// fails with ERROR_KEY_DELETED or hands back a garbage record (seen here: a page fault). Real Windows
/// serializes this itself, so only the tests take turns.
#[cfg(test)]
pub(crate) fn cred_test_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

// These run for real under Wine (scripts/wine-test) and on Windows: they write, read and delete credentials
// and registry values of the current user, under names unique to this process.
#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use winreg::RegValue;

    use super::*;

    #[allow(
        clippy::print_stderr,
        reason = "a skipped test says why, where cargo test shows it"
    )]
    #[allow(
        clippy::disallowed_methods,
        reason = "tests may read the environment (the code under test never does)"
    )]
    fn skip_or_fail(why: &str) {
        let ci =
            std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"));
        assert!(!ci, "{why} (CI is set, so this fails instead of skipping)");
        eprintln!("skipped: {why}");
    }

    /// A host name no other test (or run) uses.
    fn unique(test: &str) -> String {
        format!("rdpl-test-{test}-{}.invalid", std::process::id())
    }

    fn find(target: &str, kind: TermsrvKind) -> Option<TermsrvCred> {
        termsrv_list()
            .expect("list")
            .into_iter()
            .find(|c| c.target.eq_ignore_ascii_case(target) && c.kind == kind)
    }

    fn write_list_delete(kind: TermsrvKind, test: &str) {
        let _lock = cred_test_lock();
        let host = unique(test);
        let target = format!("TERMSRV/{host}");
        let password = SecretString::from("S3cret-Wine!".to_owned());
        termsrv_write(&host, r"CORP\alice", &password, kind, false).expect("write");

        let found = find(&target, kind).expect("the written credential is listed");
        assert_eq!(found.kind, kind);
        assert_eq!(found.user.as_deref(), Some(r"CORP\alice"));
        assert!(found.host().eq_ignore_ascii_case(&host));
        // Only one credential of that name: the other type was not touched.
        let other = match kind {
            TermsrvKind::DomainPassword => TermsrvKind::Generic,
            TermsrvKind::Generic => TermsrvKind::DomainPassword,
        };
        assert_eq!(find(&target, other), None);

        // Writing again replaces it (new user), it does not add a second one.
        termsrv_write(&host, "bob", &password, kind, true).expect("rewrite");
        let found = termsrv_list()
            .expect("list")
            .into_iter()
            .filter(|c| c.target.eq_ignore_ascii_case(&target))
            .collect::<Vec<_>>();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].user.as_deref(), Some("bob"));

        assert!(termsrv_delete(&target, kind).expect("delete"));
        assert_eq!(find(&target, kind), None);
        assert!(!termsrv_delete(&target, kind).expect("second delete"));
    }

    #[test]
    fn termsrv_domain_password_write_list_delete() {
        write_list_delete(TermsrvKind::DomainPassword, "domain");
    }

    #[test]
    fn termsrv_generic_write_list_delete() {
        write_list_delete(TermsrvKind::Generic, "generic");
    }

    #[test]
    fn termsrv_both_types_side_by_side() {
        let _lock = cred_test_lock();
        let host = unique("both");
        let target = format!("TERMSRV/{host}");
        let password = SecretString::from("pw".to_owned());
        termsrv_write(&host, "u1", &password, TermsrvKind::DomainPassword, true).expect("write domain");
        termsrv_write(&host, "u2", &password, TermsrvKind::Generic, true).expect("write generic");
        let listed: Vec<_> = termsrv_list()
            .expect("list")
            .into_iter()
            .filter(|c| c.target.eq_ignore_ascii_case(&target))
            .map(|c| (c.kind, c.user))
            .collect();
        assert_eq!(
            listed,
            vec![
                (TermsrvKind::DomainPassword, Some("u1".to_owned())),
                (TermsrvKind::Generic, Some("u2".to_owned())),
            ]
        );
        assert!(termsrv_delete(&target, TermsrvKind::Generic).expect("delete generic"));
        assert!(find(&target, TermsrvKind::DomainPassword).is_some());
        assert!(termsrv_delete(&target, TermsrvKind::DomainPassword).expect("delete domain"));
        assert_eq!(find(&target, TermsrvKind::Generic), None);
    }

    #[test]
    fn deleting_a_missing_credential_is_false() {
        let _lock = cred_test_lock();
        let target = format!("TERMSRV/{}", unique("missing"));
        assert!(!termsrv_delete(&target, TermsrvKind::DomainPassword).expect("delete"));
        assert!(!termsrv_delete(&target, TermsrvKind::Generic).expect("delete"));
    }

    #[test]
    fn mstsc_server_keys_are_read_and_cert_hash_cleared() {
        let host = unique("servers");
        let path = format!(r"{SERVERS_KEY}\{host}");
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        /// Removes the test's key however the test ends.
        struct Cleanup<'a>(&'a RegKey, &'a str);
        impl Drop for Cleanup<'_> {
            fn drop(&mut self) {
                let _ = self.0.delete_subkey_all(self.1);
            }
        }
        let (key, _) = hkcu.create_subkey(&path).expect("create key");
        let _cleanup = Cleanup(&hkcu, &path);
        let hash: Vec<u8> = (0u8..20).collect();
        key.set_raw_value(
            "CertHash",
            &RegValue {
                bytes: Cow::Borrowed(&hash),
                vtype: REG_BINARY,
            },
        )
        .expect("set CertHash");
        key.set_value("UsernameHint", &r"CORP\alice")
            .expect("set UsernameHint");

        let server = |h: &str| {
            mstsc_servers()
                .expect("servers")
                .into_iter()
                .find(|s| s.host.eq_ignore_ascii_case(h))
        };
        assert_eq!(
            server(&host),
            Some(MstscServer {
                host: host.clone(),
                cert_hash: Some(hash.clone()),
                username_hint: Some(r"CORP\alice".to_owned()),
            })
        );

        assert!(clear_cert_hash(&host).expect("clear"));
        let key = hkcu.open_subkey(&path).expect("the key itself stays");
        let gone = key.get_raw_value("CertHash").expect_err("CertHash is gone");
        assert_eq!(gone.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            key.get_value::<String, _>("UsernameHint").expect("hint stays"),
            r"CORP\alice"
        );
        assert_eq!(
            server(&host),
            Some(MstscServer {
                host: host.clone(),
                cert_hash: None,
                username_hint: Some(r"CORP\alice".to_owned()),
            })
        );
        assert!(!clear_cert_hash(&host).expect("second clear"));
        assert!(!clear_cert_hash(&unique("no-such-server")).expect("missing key"));
        assert!(clear_cert_hash(r"a\b").is_err());
    }

    #[test]
    fn udp_policy_of_the_current_user() {
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        /// Removes the test's value however the test ends (the key may stay: it is only a policy path).
        struct Cleanup<'a>(&'a RegKey);
        impl Drop for Cleanup<'_> {
            fn drop(&mut self) {
                if let Ok(k) = self.0.open_subkey_with_flags(UDP_POLICY_KEY, KEY_SET_VALUE) {
                    let _ = k.delete_value(UDP_POLICY_VALUE);
                }
            }
        }
        let before = udp_policy().expect("policy");
        if let Some((key, _)) = &before {
            // A real machine may set it by group policy, and then this test can't see its own change. The
            // Wine prefix the suite runs in (scripts/wine-test) is clean, so in CI this is a failure.
            skip_or_fail(&format!("the UDP policy is already set by {key}"));
            return;
        }
        let (key, _) = hkcu.create_subkey(UDP_POLICY_KEY).expect("create policy key");
        let _cleanup = Cleanup(&hkcu);
        let expected_key = format!(r"HKCU\{UDP_POLICY_KEY}");

        key.set_value(UDP_POLICY_VALUE, &1u32).expect("set 1");
        assert_eq!(udp_policy().expect("policy"), Some((expected_key.clone(), true)));
        key.set_value(UDP_POLICY_VALUE, &0u32).expect("set 0");
        assert_eq!(udp_policy().expect("policy"), Some((expected_key, false)));
        key.delete_value(UDP_POLICY_VALUE).expect("delete");
        assert_eq!(udp_policy().expect("policy"), None);
    }

    /// The trusted-publishers policy: read, added to (keeping what is listed), found again, and AllowSignedFiles
    /// read, in a scratch key of the current user.
    #[test]
    fn the_publisher_policy_is_read_and_written() {
        use rdpl_core::mstsc::{ALLOW_SIGNED_FILES, TRUSTED_THUMBPRINTS, findings};
        use winreg::enums::HKEY_CURRENT_USER;
        let hkcu = winreg::RegKey::predef(HKEY_CURRENT_USER);
        let subkey = format!(r"Software\rdpl-test-{}-policy", std::process::id());
        let roots = [(winreg::RegKey::predef(HKEY_CURRENT_USER), "HKCU")];
        let thumb = "A9993E364706816ABA3E25717850C26C9CD0D89D";
        let before = rdp_file_policy_at(&roots, &subkey).expect("read (no key)");
        assert_eq!(before, rdpl_core::mstsc::RdpFilePolicy::default());
        assert_eq!(findings(Some(thumb), &before).len(), 1, "untrusted before");
        let (key, _) = hkcu.create_subkey(&subkey).expect("scratch key");
        key.set_value(TRUSTED_THUMBPRINTS, &"1111111111111111111111111111111111111111")
            .expect("an existing entry");
        key.set_value(ALLOW_SIGNED_FILES, &1u32).expect("allow");
        let at = format!(r"HKCU\{subkey}");
        assert_eq!(
            trust_publisher_at(&hkcu, "HKCU", &subkey, thumb).expect("add"),
            Trust::Added(at.clone())
        );
        assert_eq!(
            trust_publisher_at(&hkcu, "HKCU", &subkey, &thumb.to_lowercase()).expect("again"),
            Trust::Already(at.clone())
        );
        let value: String = key.get_value(TRUSTED_THUMBPRINTS).expect("value");
        assert_eq!(value, format!("1111111111111111111111111111111111111111,{thumb}"));
        let after = rdp_file_policy_at(&roots, &subkey).expect("read");
        assert_eq!(after.trusted_in(thumb), Some(at.as_str()));
        assert!(findings(Some(thumb), &after).is_empty(), "{after:?}");
        key.set_value(ALLOW_SIGNED_FILES, &0u32)
            .expect("refuse signed files");
        let refused = rdp_file_policy_at(&roots, &subkey).expect("read");
        assert_eq!(refused.signed_files_blocked(), Some(at.as_str()));
        let _ = hkcu.delete_subkey_all(&subkey);
    }

    /// The RDP client's event log read for real: an answer (Windows) or a clear error (Wine has no such
    /// channel), never a panic or a hang.
    #[test]
    fn the_rdp_client_log_is_read_or_its_error_named() {
        match super::last_rdp_client_disconnect(std::time::Duration::from_secs(60)) {
            Ok(reason) => assert!(reason.is_none_or(|r| r < 0x1_0000), "{reason:?}"),
            Err(e) => assert!(e.to_string().contains("RDPClient/Operational"), "{e}"),
        }
    }
}
