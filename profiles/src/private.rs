//! Owner-only files and directories.
//!
//! On Unix the mode does it (0600 files, 0700 directories, set where they are created). On Windows a file
//! inherits the ACL of its directory, which under `%APPDATA%` usually already keeps other users out, but not
//! always (a roaming profile on a share, a `--config-dir` on another drive, `%TEMP%` redirected). So every file
//! and directory rdpl writes gets a *protected* DACL with a single entry: full control for the user rdpl runs
//! as. Nothing is inherited from the parent, and children of a directory inherit the same single entry.

use std::io;
use std::path::Path;

/// Restricts `path` (a file or a directory that rdpl just created) to the current user.
///
/// A no-op on Unix, where the mode was set at creation.
pub fn restrict(path: &Path) -> io::Result<()> {
    imp::restrict(path)
}

#[cfg(not(windows))]
mod imp {
    use std::io;
    use std::path::Path;

    pub(super) fn restrict(_path: &Path) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(windows)]
pub(crate) mod imp {
    use std::ffi::c_void;
    use std::io;
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;

    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::Security::{
        ACCESS_ALLOWED_ACE, ACL, ACL_REVISION, AddAccessAllowedAceEx, CONTAINER_INHERIT_ACE,
        DACL_SECURITY_INFORMATION, GetLengthSid, GetTokenInformation, InitializeAcl,
        InitializeSecurityDescriptor, OBJECT_INHERIT_ACE, PSECURITY_DESCRIPTOR, SE_DACL_PROTECTED,
        SECURITY_DESCRIPTOR, SetFileSecurityW, SetSecurityDescriptorControl, SetSecurityDescriptorDacl,
        TOKEN_QUERY, TOKEN_USER, TokenUser,
    };
    /// `SECURITY_DESCRIPTOR_REVISION` (windows-sys has it under System_SystemServices, a big feature for one number).
    const SECURITY_DESCRIPTOR_REVISION: u32 = 1;
    use windows_sys::Win32::Storage::FileSystem::FILE_ALL_ACCESS;
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    /// The TOKEN_USER of this process, in a buffer aligned for it (the SID it points to lives in the buffer).
    pub(crate) struct CurrentUser {
        buf: Vec<u64>,
    }

    impl CurrentUser {
        pub(crate) fn get() -> io::Result<CurrentUser> {
            let mut token: HANDLE = std::ptr::null_mut();
            // SAFETY: GetCurrentProcess returns a pseudo handle; `token` is a valid out pointer.
            if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
                return Err(io::Error::last_os_error());
            }
            let result = (|| {
                let mut len = 0u32;
                // SAFETY: a size query with a null buffer; `len` receives the size needed.
                unsafe { GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut len) };
                if len == 0 {
                    return Err(io::Error::last_os_error());
                }
                let mut buf = vec![0u64; (len as usize).div_ceil(8)];
                // SAFETY: `buf` holds at least `len` bytes and is 8-byte aligned, enough for TOKEN_USER.
                let ok =
                    unsafe { GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len) };
                if ok == 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(CurrentUser { buf })
            })();
            // SAFETY: `token` was opened above and is closed once.
            unsafe { CloseHandle(token) };
            result
        }

        pub(crate) fn sid(&self) -> *mut c_void {
            // SAFETY: GetTokenInformation(TokenUser) filled the buffer with a TOKEN_USER.
            unsafe { (*self.buf.as_ptr().cast::<TOKEN_USER>()).User.Sid }
        }
    }

    pub(super) fn restrict(path: &Path) -> io::Result<()> {
        let user = CurrentUser::get()?;
        let sid = user.sid();
        // SAFETY: `sid` points into `user`, alive for this function.
        let sid_len = unsafe { GetLengthSid(sid) } as usize;
        let acl_len = size_of::<ACL>() + size_of::<ACCESS_ALLOWED_ACE>() - size_of::<u32>() + sid_len;
        let mut acl = vec![0u64; acl_len.div_ceil(8)];
        let acl_ptr = acl.as_mut_ptr().cast::<ACL>();
        let acl_len = u32::try_from(acl_len).map_err(io::Error::other)?;
        // SAFETY: `acl` is at least `acl_len` bytes, 8-byte aligned (ACL needs 4).
        if unsafe { InitializeAcl(acl_ptr, acl_len, ACL_REVISION) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE;
        // SAFETY: the ACL was sized for exactly this one ACE with this SID.
        if unsafe { AddAccessAllowedAceEx(acl_ptr, ACL_REVISION, flags, FILE_ALL_ACCESS, sid) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let wide: Vec<u16> = path.as_os_str().encode_wide().chain(Some(0)).collect();
        // SAFETY: SECURITY_DESCRIPTOR is plain data (integers and pointers); all-zero is valid before Initialize.
        let mut sd: SECURITY_DESCRIPTOR = unsafe { std::mem::zeroed() };
        let psd: PSECURITY_DESCRIPTOR = (&raw mut sd).cast();
        // SAFETY: `sd` is an absolute security descriptor on the stack, alive for the calls below; the DACL
        // it points to (`acl`) outlives them.
        let ok = unsafe {
            InitializeSecurityDescriptor(psd, SECURITY_DESCRIPTOR_REVISION) != 0
                && SetSecurityDescriptorDacl(psd, 1, acl_ptr, 0) != 0
                && SetSecurityDescriptorControl(psd, SE_DACL_PROTECTED, SE_DACL_PROTECTED) != 0
                && SetFileSecurityW(wide.as_ptr(), DACL_SECURITY_INFORMATION, psd) != 0
        };
        if ok {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

/// Windows: the DACL of `path` in SDDL (`D:P(A;OICI;FA;;;S-1-5-21-…)`), and the SID of the current user, so tests
/// and `--verbose` diagnostics can show what an ACL is.
#[cfg(windows)]
pub mod inspect {
    use std::io;
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;

    use windows_sys::Win32::Foundation::{ERROR_SUCCESS, LocalFree};
    use windows_sys::Win32::Security::Authorization::{
        ConvertSecurityDescriptorToStringSecurityDescriptorW, ConvertSidToStringSidW, GetNamedSecurityInfoW,
        SDDL_REVISION_1, SE_FILE_OBJECT,
    };
    use windows_sys::Win32::Security::{DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR};
    use windows_sys::core::PWSTR;

    /// Takes a LocalAlloc'ed wide string, copies it out and frees it.
    fn take(p: PWSTR) -> String {
        // SAFETY: `p` is a NUL-terminated string allocated by the API that returned it; freed once here.
        unsafe {
            let len = (0..).take_while(|&i| *p.add(i) != 0).count();
            let s = String::from_utf16_lossy(std::slice::from_raw_parts(p, len));
            LocalFree(p.cast());
            s
        }
    }

    /// The current user's SID, e.g. `S-1-5-21-…-1000`.
    pub fn user_sid() -> io::Result<String> {
        let user = super::imp::CurrentUser::get()?;
        let mut out: PWSTR = std::ptr::null_mut();
        // SAFETY: the SID is valid while `user` lives; `out` receives a LocalAlloc'ed string.
        if unsafe { ConvertSidToStringSidW(user.sid(), &mut out) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(take(out))
    }

    /// The DACL of a file or directory in SDDL.
    pub fn dacl(path: &Path) -> io::Result<String> {
        let wide: Vec<u16> = path.as_os_str().encode_wide().chain(Some(0)).collect();
        let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: `wide` is NUL-terminated; only the security descriptor is requested (freed below).
        let rc = unsafe {
            GetNamedSecurityInfoW(
                wide.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut sd,
            )
        };
        if rc != ERROR_SUCCESS {
            return Err(io::Error::from_raw_os_error(rc as i32));
        }
        let mut out: PWSTR = std::ptr::null_mut();
        // SAFETY: `sd` came from GetNamedSecurityInfoW; `out` receives a LocalAlloc'ed string.
        let ok = unsafe {
            ConvertSecurityDescriptorToStringSecurityDescriptorW(
                sd,
                SDDL_REVISION_1,
                DACL_SECURITY_INFORMATION,
                &mut out,
                std::ptr::null_mut(),
            )
        };
        let err = io::Error::last_os_error();
        // SAFETY: `sd` was allocated by GetNamedSecurityInfoW and is freed once.
        unsafe { LocalFree(sd) };
        if ok == 0 {
            return Err(err);
        }
        Ok(take(out))
    }
}
