//! What mstsc will do with the signed .rdp files rdpl hands it, from the documented policies (read from the
//! registry by the launcher on Windows):
//!
//! - "Specify SHA1 thumbprints of certificates representing trusted .rdp publishers" (`TrustedCertThumbprints`,
//!   REG_SZ, a comma-separated list) under `SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services`, for the
//!   computer (HKLM) and the user (HKCU). A file signed by a listed publisher opens without the security
//!   dialog, with the redirections it asks for; since the April 2026 update (CVE-2026-26151) every other
//!   file shows the dialog and starts with all redirections off.
//! - "Allow .rdp files from valid publishers and user's default .rdp settings" (`AllowSignedFiles`, DWORD, 0 =
//!   disabled) in the same keys: disabled, mstsc refuses signed files altogether.
//!
//! Sources: Microsoft Learn, Policy CSP - ADMX_TerminalServer (`TS_CLIENT_TRUSTED_CERTIFICATE_THUMBPRINTS_*`,
//! `TS_CLIENT_ALLOW_SIGNED_FILES_*`; Group Policy: Administrative Templates, Windows Components, Remote Desktop
//! Services, Remote Desktop Connection Client), and the Windows security update notes of April 2026 for
//! CVE-2026-26151.

use crate::finding::{Finding, FindingId};

/// The policy key, under HKLM and HKCU.
pub const POLICY_KEY: &str = r"SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services";
/// The trusted publishers' thumbprints.
pub const TRUSTED_THUMBPRINTS: &str = "TrustedCertThumbprints";
/// Whether signed files are allowed (0: refused).
pub const ALLOW_SIGNED_FILES: &str = "AllowSignedFiles";

/// The policy values that decide how mstsc opens rdpl's files, each with where it was read (`HKLM\...`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RdpFilePolicy {
    /// Each `TrustedCertThumbprints` value found, with where.
    pub trusted: Vec<(String, String)>,
    /// Each `AllowSignedFiles` value found, with where.
    pub allow_signed: Vec<(String, u32)>,
}

/// A SHA-1 thumbprint as the policy compares it: hex digits only, upper case (Windows shows them with spaces
/// and lower case; certutil prints them without).
pub fn normalize(thumbprint: &str) -> String {
    thumbprint
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The thumbprints in a `TrustedCertThumbprints` value (comma-separated; semicolons tolerated).
pub fn thumbprints(value: &str) -> Vec<String> {
    value
        .split([',', ';'])
        .map(normalize)
        .filter(|t| t.len() == 40)
        .collect()
}

/// `value` with `thumbprint` added, or `None` when it is listed already.
pub fn with_thumbprint(value: &str, thumbprint: &str) -> Option<String> {
    let t = normalize(thumbprint);
    if thumbprints(value).contains(&t) {
        return None;
    }
    let kept: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    Some(if kept.is_empty() {
        t
    } else {
        format!("{},{t}", kept.join(","))
    })
}

impl RdpFilePolicy {
    /// Where `thumbprint` is trusted, if anywhere.
    pub fn trusted_in(&self, thumbprint: &str) -> Option<&str> {
        let t = normalize(thumbprint);
        self.trusted
            .iter()
            .find(|(_, v)| thumbprints(v).contains(&t))
            .map(|(at, _)| at.as_str())
    }

    /// Where signed files are refused, if anywhere.
    pub fn signed_files_blocked(&self) -> Option<&str> {
        self.allow_signed
            .iter()
            .find(|(_, v)| *v == 0)
            .map(|(at, _)| at.as_str())
    }
}

/// The findings about rdpl's publisher: `thumbprint` is `None` before the publisher was ever created.
pub fn findings(thumbprint: Option<&str>, policy: &RdpFilePolicy) -> Vec<Finding> {
    let mut out = Vec::new();
    match thumbprint {
        None => out.push(Finding::new(
            FindingId::MstscPublisherUntrusted,
            "rdpl's .rdp publisher certificate does not exist yet (the first `rdpl connect` through mstsc makes \
             it), so no policy trusts it: mstsc will show a security dialog for each file rdpl hands it and \
             start it with every redirection off.",
        )),
        Some(t) if policy.trusted_in(t).is_none() => out.push(Finding::new(
            FindingId::MstscPublisherUntrusted,
            format!(
                "rdpl's .rdp publisher (SHA-1 thumbprint {}) is not in the \"trusted .rdp publishers\" policy \
                 (TrustedCertThumbprints): mstsc will show a security dialog for each file rdpl hands it and \
                 start it with every redirection off.",
                normalize(t)
            ),
        )),
        Some(_) => {}
    }
    if let Some(at) = policy.signed_files_blocked() {
        out.push(Finding::new(
            FindingId::MstscSignedFilesBlocked,
            format!(
                "AllowSignedFiles is 0 in {at}: mstsc refuses signed .rdp files, so it will not open the files \
                 rdpl hands it."
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d";
    const T_UPPER: &str = "A9993E364706816ABA3E25717850C26C9CD0D89D";

    #[test]
    fn thumbprints_compare_as_hex_digits() {
        assert_eq!(normalize(T), T_UPPER);
        assert_eq!(
            thumbprints(&format!(" {T} ;0000000000000000000000000000000000000000, bad")).len(),
            2
        );
        assert_eq!(with_thumbprint("", T).as_deref(), Some(T_UPPER));
        let other = "1111111111111111111111111111111111111111";
        assert_eq!(
            with_thumbprint(other, T).as_deref(),
            Some(format!("{other},{T_UPPER}").as_str())
        );
        assert_eq!(
            with_thumbprint(&format!("{other}, {}", T.to_uppercase()), T),
            None
        );
    }

    #[test]
    fn the_findings_follow_the_policy() {
        let none = RdpFilePolicy::default();
        let ids = |v: Vec<Finding>| v.into_iter().map(|f| f.id).collect::<Vec<_>>();
        assert_eq!(ids(findings(None, &none)), [FindingId::MstscPublisherUntrusted]);
        assert_eq!(
            ids(findings(Some(T), &none)),
            [FindingId::MstscPublisherUntrusted]
        );
        let trusted = RdpFilePolicy {
            trusted: vec![(
                r"HKCU\x".into(),
                format!("1111111111111111111111111111111111111111,{T_UPPER}"),
            )],
            allow_signed: vec![(r"HKCU\x".into(), 1)],
        };
        assert_eq!(trusted.trusted_in(T), Some(r"HKCU\x"));
        assert!(findings(Some(T), &trusted).is_empty());
        let blocked = RdpFilePolicy {
            allow_signed: vec![(r"HKLM\x".into(), 0)],
            ..trusted
        };
        let f = findings(Some(T), &blocked);
        assert_eq!(ids(f.clone()), [FindingId::MstscSignedFilesBlocked]);
        assert!(f[0].message.contains(r"HKLM\x"));
    }
}
