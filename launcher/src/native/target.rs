//! Where and how a native session connects: the endpoint, the gateway, the route between them, who logs on,
//! the session settings and the certificate to accept. Plain values the pipeline fills in and the connection
//! code reads.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

/// Where to connect: the address pre-flight chose, and the name the server is known by (TLS server name and the
/// CredSSP service principal `TERMSRV/<name>`).
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The address to reach.
    pub addr: SocketAddr,
    /// The host name (or IP literal) of the profile.
    pub server_name: String,
}

/// The gateway to tunnel through.
#[derive(Debug, Clone)]
pub struct GatewayTarget {
    /// `host:port`.
    pub endpoint: String,
    /// SHA-256 (hex) of the gateway certificate pre-flight saw, accepted when the platform does not trust it.
    pub sha256: Option<String>,
}

/// Who logs on.
#[derive(Debug)]
pub struct Login {
    /// The user name (without the domain).
    pub user: String,
    /// The domain, if any.
    pub domain: Option<String>,
    /// The password.
    pub password: SecretString,
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct Settings {
    /// NLA (CredSSP) on; off means TLS with the logon inside the session.
    pub nla: bool,
    /// The desktop size to ask for.
    pub desktop: (u16, u16),
    /// Send the credentials in the Client Info PDU for an automatic logon (TLS servers that support it).
    pub autologon: bool,
    /// Budget for the whole connection sequence.
    pub timeout: Duration,
    /// Offer the Display Control channel, so the desktop can follow the window's size.
    pub display_control: bool,
    /// The client name the server (and the RD Gateway) is told ([`crate::config::Config::client_name`]).
    pub client_name: String,
}

/// Which server certificate to accept when the platform does not trust it: the SHA-256 (hex) pre-flight saw
/// and the plan allowed (or the pin, when pre-flight could not see the server).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The certificate's SHA-256.
    pub sha256: Option<String>,
}

/// The route to the server.
#[derive(Debug, Clone)]
pub enum Route {
    /// Straight to the server.
    Direct(Endpoint),
    /// Through an RD Gateway.
    Gateway {
        /// The gateway.
        gateway: GatewayTarget,
        /// The server behind it (its address is the gateway's business; the name is used).
        endpoint: Endpoint,
    },
}
