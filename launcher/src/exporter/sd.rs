//! `/sd`: Prometheus HTTP service discovery. One target group per profile: the target is the profile's name
//! (what `/probe?target=` takes), the labels say where it points (`host`), through which RD Gateway
//! (`gateway`, absent without one) and with which client (`backend`). Pure.

use std::collections::BTreeMap;

use rdpl_profiles::profile::Profile;
use serde::Serialize;

#[derive(Debug, Serialize)]
struct Group {
    targets: [String; 1],
    labels: BTreeMap<&'static str, String>,
}

/// The discovery document for these profiles.
pub(crate) fn groups(profiles: &[Profile]) -> String {
    let groups: Vec<Group> = profiles
        .iter()
        .map(|p| {
            let mut labels = BTreeMap::new();
            labels.insert("host", format!("{}:{}", p.host, p.port));
            if let Some(g) = &p.gateway {
                labels.insert("gateway", format!("{}:{}", g.host, g.port));
            }
            labels.insert("backend", p.backend.to_string());
            Group {
                targets: [p.name.to_string()],
                labels,
            }
        })
        .collect();
    serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use rdpl_profiles::profile::Gateway;

    use super::*;

    #[test]
    fn every_profile_is_a_group_with_its_labels() {
        let mut web = Profile::new(
            "web01".parse().expect("name"),
            "web01.corp".parse().expect("host"),
        );
        web.gateway = Some(Gateway::new(
            "rdg.corp".parse().expect("host"),
            "443".parse().expect("port"),
        ));
        let db = Profile::new("db".parse().expect("name"), "10.0.0.7".parse().expect("host"));
        let v: serde_json::Value = serde_json::from_str(&groups(&[web, db])).expect("JSON");
        assert_eq!(
            v,
            serde_json::json!([
                {"targets": ["web01"], "labels": {"host": "web01.corp:3389", "gateway": "rdg.corp:443", "backend": "auto"}},
                {"targets": ["db"], "labels": {"host": "10.0.0.7:3389", "backend": "auto"}},
            ])
        );
        assert_eq!(groups(&[]), "[]");
    }
}
