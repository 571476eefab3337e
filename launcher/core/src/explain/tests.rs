use std::collections::HashSet;

use rstest::rstest;

use super::*;

/// The finding ids `rdpl check` emits (docs/json.md); an entry's `finding` must be one of them.
const FINDING_IDS: &[&str] = &[
    "address.fallback_used",
    "cert.expired",
    "cert.expiring_soon",
    "cert.missing",
    "cert.name_mismatch",
    "cert.no_server_auth",
    "cert.not_yet_valid",
    "cert.pin_changed",
    "cert.pin_new",
    "cert.self_signed",
    "cert.unparsable",
    "cert.untrusted",
    "cert.weak_key",
    "dns.error",
    "dns.mismatch",
    "dns.nxdomain",
    "dns.servfail",
    "dns.timeout",
    "gateway.dns",
    "gateway.not_rdg",
    "gateway.rejected",
    "gateway.unreachable",
    "nego.entra_auth_required",
    "nego.hybrid_required",
    "nego.inconsistent_flags",
    "nego.nla_unavailable",
    "nego.ssl_cert_not_on_server",
    "nego.ssl_not_allowed",
    "nego.ssl_required",
    "nego.ssl_with_user_auth_required",
    "nego.unknown_failure",
    "tcp.error",
    "tcp.refused",
    "tcp.timeout",
    "tcp.unreachable",
    "tls.handshake_failed",
    "tls.legacy_version",
    "x224.closed",
    "x224.garbage",
    "x224.legacy_only",
    "x224.silent",
];

fn family_entries(f: Family) -> impl Iterator<Item = &'static Entry> {
    all().iter().filter(move |e| e.family == f)
}

fn text(e: &Explanation) -> String {
    e.summary.join("\n")
}

#[test]
fn every_family_has_entries() {
    for f in Family::ALL {
        assert!(family_entries(f).count() > 0, "{f:?} has no entries");
    }
}

#[test]
fn no_duplicate_family_code_pairs() {
    let mut seen = HashSet::new();
    for e in all() {
        assert!(
            seen.insert((e.family, e.code)),
            "duplicate {:?} {:#X}",
            e.family,
            e.code
        );
    }
}

#[test]
fn families_in_order_and_codes_ascending() {
    for w in all().windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert!(
            (a.family, a.code) < (b.family, b.code),
            "{:?} {:#X} is listed before {:?} {:#X}",
            a.family,
            a.code,
            b.family,
            b.code
        );
    }
}

#[test]
fn every_entry_has_name_meaning_and_source() {
    for e in all() {
        let what = format!("{:?} {:#X}", e.family, e.code);
        assert!(!e.name.trim().is_empty(), "{what}: no name");
        assert!(!e.meaning.trim().is_empty(), "{what}: no meaning");
        assert!(!e.source.trim().is_empty(), "{what}: no source");
        assert!(
            e.causes.iter().all(|c| !c.trim().is_empty()),
            "{what}: empty cause"
        );
        assert!(e.fix.is_none_or(|f| !f.trim().is_empty()), "{what}: empty fix");
    }
}

#[test]
fn findings_are_real_check_finding_ids() {
    for e in all() {
        if let Some(id) = e.finding {
            assert!(
                FINDING_IDS.contains(&id.wire()),
                "{:?} {:#X}: unknown finding {id}",
                e.family,
                e.code
            );
        }
    }
}

#[test]
fn related_entries_exist_and_are_others() {
    for e in all() {
        for &(f, c) in e.related {
            assert!(
                entry(f, c).is_some(),
                "{:?} {:#X} relates to missing {f:?} {c:#X}",
                e.family,
                e.code
            );
            assert!(
                (f, c) != (e.family, e.code),
                "{:?} {:#X} relates to itself",
                e.family,
                e.code
            );
        }
    }
}

#[test]
fn mstsc_codes_ending_in_07_are_the_ssl_err_ones() {
    for e in family_entries(Family::MstscDisconnect) {
        assert_eq!(
            e.code & 0xFF == 0x07 && e.code > 0xFF,
            e.name.starts_with("SSL_ERR_"),
            "{:#X} {}",
            e.code,
            e.name
        );
    }
}

#[test]
fn extended_reasons_line_up_with_errinfo() {
    let codes = (0..=7).chain(9..=12).chain(0x100..=0x10A);
    for c in codes {
        assert!(
            entry(Family::ExtendedReason, c).is_some(),
            "no extended reason {c:#X}"
        );
        assert!(entry(Family::ErrInfo, c).is_some(), "no ERRINFO {c:#X}");
    }
}

#[test]
fn every_errinfo_entry_has_an_ironrdp_description() {
    // 0x1196 (ERRINFO_PEER_DISCONNECTED) is FreeRDP's, beyond ironrdp-pdu's table; its entry says so.
    for e in family_entries(Family::ErrInfo).filter(|e| e.code != 0x1196) {
        let d = errinfo_description(e.code);
        assert!(
            d.is_some_and(|d| !d.is_empty()),
            "ironrdp-pdu has no description for {:#X}",
            e.code
        );
    }
}

#[test]
fn every_code_ironrdp_knows_is_in_the_errinfo_table() {
    for code in 0..=0xFFFF_u32 {
        if errinfo_description(code).is_some() {
            assert!(
                entry(Family::ErrInfo, code).is_some(),
                "ironrdp-pdu knows ERRINFO {code:#X}, rdpl does not"
            );
        }
    }
}

#[test]
fn neg_failures_have_ironrdp_text_and_findings() {
    for e in family_entries(Family::NegFailure) {
        assert!(neg_failure_description(e.code).is_some(), "{}", e.code);
        assert!(
            e.finding.is_some_and(|f| f.wire().starts_with("nego.")),
            "{}",
            e.code
        );
    }
    assert_eq!(neg_failure_description(8), None);
    assert_eq!(family_entries(Family::NegFailure).count(), 7);
}

#[test]
fn errinfo_lookup_calls_ironrdp() {
    let found = lookup(7);
    let errinfo = found
        .iter()
        .find(|m| m.entry.family == Family::ErrInfo)
        .expect("ERRINFO 7");
    let lib = errinfo.library.as_ref().expect("library text");
    assert_eq!(lib.source, ERRINFO_LIBRARY);
    assert!(
        lib.text.contains("The server denied the connection"),
        "{}",
        lib.text
    );
    assert_eq!(
        errinfo_description(0x112F)
            .as_deref()
            .map(|s| s.contains("graphics")),
        Some(true)
    );
    assert_eq!(errinfo_description(0x8), None);
}

#[rstest]
#[case("0x904", 0x904)]
#[case("0X1B07", 0x1B07)]
#[case("0x1b07", 0x1B07)]
#[case("904h", 0x904)]
#[case("904H", 0x904)]
#[case("&H904", 0x904)]
#[case("2308", 2308)]
#[case("  2308\n", 2308)]
#[case("1b07", 0x1B07)]
#[case("c000006d", 0xC000_006D)]
#[case("0xC000006D", 0xC000_006D)]
#[case("-2146893054", 0x8009_0302)]
#[case("-1073741715", 0xC000_006D)]
#[case("-1", 0xFFFF_FFFF)]
#[case("-2147483648", 0x8000_0000)]
#[case("0x8009_0302", 0x8009_0302)]
#[case("0x80090302L", 0x8009_0302)]
#[case("0x00000904", 0x904)]
#[case("0", 0)]
#[case("0x0", 0)]
#[case("4294967295", u32::MAX)]
#[case("147", 147)]
fn parse_code_accepts(#[case] input: &str, #[case] want: u32) {
    assert_eq!(parse_code(input), Ok(want), "{input:?}");
}

#[rstest]
#[case("")]
#[case("   ")]
#[case("0x")]
#[case("h")]
#[case("-")]
#[case("zz")]
#[case("12g")]
#[case("0x-5")]
#[case("0x1FFFFFFFF")]
#[case("4294967296")]
#[case("-2147483649")]
#[case("--5")]
#[case("0x90 4")]
fn parse_code_rejects(#[case] input: &str) {
    let err = parse_code(input).expect_err(input);
    assert!(!err.is_empty());
}

#[test]
fn parse_code_error_says_how_to_write_a_code() {
    let err = parse_code("banana").expect_err("not a number");
    assert!(err.contains("0x904") && err.contains("2308"), "{err}");
    let err = parse_code("0x1FFFFFFFF").expect_err("too big");
    assert!(err.contains("32 bits"), "{err}");
}

#[test]
fn socket_closed_with_extended_7() {
    let e = explain(0x904, Some(7));
    let first = e.code.matches.first().expect("0x904 is documented");
    assert_eq!(first.entry.family, Family::MstscDisconnect);
    assert_eq!(first.entry.name, "disconnectReasonAtClientWinsockFDCLOSE");
    let ext = e.extended.as_ref().expect("extended reading");
    assert_eq!(ext.matches[0].entry.family, Family::ExtendedReason);
    assert_eq!(ext.matches[0].entry.name, "exDiscReasonServerDeniedConnection");
    assert_eq!(ext.matches[1].entry.family, Family::ErrInfo);
    assert!(ext.matches[1].library.is_some());
    assert_eq!(e.corrections.len(), 1);
    assert!(e.corrections[0].wrong.contains("ERROR_ARENA_TRASHED"));
    let t = text(&e);
    assert!(t.to_lowercase().contains("socket closed"), "{t}");
    assert!(t.contains("exDiscReasonServerDeniedConnection"), "{t}");
    assert!(t.contains("ERROR_ARENA_TRASHED") && t.contains("wrong"), "{t}");
}

#[test]
fn seven_alone_gets_the_correction_too() {
    let e = explain(7, None);
    assert!(e.code.documented);
    assert_eq!(e.corrections.len(), 1);
    assert!(text(&e).contains("not an mstsc disconnect reason"));
}

#[test]
fn other_extended_codes_get_no_correction() {
    assert!(explain(0x3, Some(3)).corrections.is_empty());
    assert!(explain(0x904, None).corrections.is_empty());
}

#[test]
fn extended_protocol_error_reads_as_errinfo() {
    let e = explain(0x3, Some(0x112F));
    let ext = e.extended.expect("extended");
    assert!(ext.documented);
    assert_eq!(ext.matches.len(), 1);
    assert_eq!(ext.matches[0].entry.name, "ERRINFO_GRAPHICS_SUBSYSTEM_FAILED");
    assert!(ext.matches[0].via.is_some());
    assert!(
        ext.ranges
            .iter()
            .any(|r| r.family == Some(Family::ExtendedReason))
    );
}

#[test]
fn extended_code_nothing_documents() {
    let ext = explain(0x3, Some(0x7ABC)).extended.expect("extended");
    assert!(!ext.documented);
    assert!(ext.matches.is_empty());
    assert!(ext.ranges.iter().any(|r| r.what.contains("protocol errors")));
    assert!(ext.ranges.iter().all(|r| r.what.contains("not documented")));
}

#[test]
fn xfreerdp_exit_147_in_context() {
    let found = lookup(147);
    let first = found.first().expect("147");
    assert_eq!(first.entry.family, Family::XfreerdpExit);
    assert_eq!(first.entry.name, "XF_EXIT_CONNECT_TRANSPORT_FAILED");
    assert!(
        first
            .related
            .iter()
            .any(|r| r.code == 0x2_000D && r.name == "ERRCONNECT_CONNECT_TRANSPORT_FAILED")
    );
    for (code, name) in [
        (131, "XF_EXIT_CONN_FAILED"),
        (133, "XF_EXIT_NEGO_FAILURE"),
        (143, "XF_EXIT_TLS_CONNECT_FAILED"),
    ] {
        assert_eq!(entry(Family::XfreerdpExit, code).map(|e| e.name), Some(name));
    }
}

#[test]
fn freerdp_connect_codes_are_class_2() {
    for e in family_entries(Family::FreeRdpConnect) {
        assert_eq!(e.code >> 16, 2, "{}", e.name);
        assert!(e.name.starts_with("ERRCONNECT_"), "{}", e.name);
    }
    assert_eq!(
        entry(Family::FreeRdpConnect, 0x2_000D).map(|e| e.name),
        Some("ERRCONNECT_CONNECT_TRANSPORT_FAILED")
    );
}

#[test]
fn gateway_codes() {
    assert_eq!(
        entry(Family::GatewayHresult, 0x8007_59DA).map(|e| e.name),
        Some("E_PROXY_RAP_ACCESSDENIED")
    );
    assert_eq!(
        entry(Family::GatewayHresult, 0x59E6).map(|e| e.name),
        Some("HRESULT_CODE(E_PROXY_MAXCONNECTIONSREACHED)")
    );
    // 0x800759DF is E_PROXY_ALREADYDISCONNECTED, not the connection limit.
    assert_eq!(
        entry(Family::GatewayHresult, 0x8007_59DF).map(|e| e.name),
        Some("E_PROXY_ALREADYDISCONNECTED")
    );
}

#[rstest]
#[case(0x1_0007, Family::ErrInfo, 7)]
#[case(0x8007_59E6, Family::GatewayHresult, 0x59E6)]
#[case(0x59DA, Family::GatewayHresult, 0x8007_59DA)]
#[case(240, Family::ErrInfo, 0x100)]
#[case(250, Family::ErrInfo, 0x10A)]
fn derived_readings_say_how(#[case] code: u32, #[case] family: Family, #[case] target: u32) {
    let found = lookup(code);
    let m = found
        .iter()
        .find(|m| m.entry.family == family && m.entry.code == target)
        .unwrap_or_else(|| panic!("{code:#X} does not read as {family:?} {target:#X}"));
    assert!(m.via.as_deref().is_some_and(|v| !v.is_empty()));
}

#[test]
fn direct_readings_come_first_and_have_no_via() {
    let found = lookup(0x7);
    assert!(found.iter().all(|m| m.via.is_none()));
    let fams: Vec<Family> = found.iter().map(|m| m.entry.family).collect();
    assert_eq!(
        fams,
        vec![
            Family::ExtendedReason,
            Family::ErrInfo,
            Family::NegFailure,
            Family::XfreerdpExit
        ]
    );
}

#[rstest]
#[case(0x1F0, Family::ErrInfo, "licensing")]
#[case(0x4F0, Family::ErrInfo, "Connection Broker")]
#[case(0x1234, Family::ExtendedReason, "protocol errors")]
#[case(0x1234, Family::ErrInfo, "RDP-specific")]
#[case(0x8007_59E0, Family::GatewayHresult, "RD Gateway")]
#[case(0x59E0, Family::GatewayHresult, "RD Gateway")]
#[case(0xC000_1234, Family::NtStatus, "NTSTATUS")]
#[case(0x8009_03F0, Family::Sspi, "SEC_E_")]
#[case(0x8009_1234, Family::Sspi, "FACILITY_SECURITY")]
#[case(0x2_0050, Family::FreeRdpConnect, "ERRCONNECT_")]
#[case(0x1_0050, Family::ErrInfo, "FreeRDP")]
#[case(200, Family::XfreerdpExit, "xfreerdp")]
#[case(100, Family::XfreerdpExit, "RDP protocol error set")]
fn unknown_code_names_its_range(#[case] code: u32, #[case] family: Family, #[case] needle: &str) {
    let e = explain(code, None);
    assert!(!e.code.documented, "{code:#X} should be undocumented");
    assert!(e.code.matches.is_empty());
    let r = e
        .code
        .ranges
        .iter()
        .find(|r| r.family == Some(family) && r.what.contains(needle))
        .unwrap_or_else(|| {
            panic!(
                "{code:#X}: no {family:?} range with {needle:?} in {:#?}",
                e.code.ranges
            )
        });
    assert!(
        r.what.contains("not documented") || r.what.contains("no entry"),
        "{}",
        r.what
    );
    let t = text(&e);
    assert!(t.contains("not documented"), "{t}");
}

#[test]
fn hresult_and_ntstatus_fields_are_decoded() {
    let e = explain(0x8007_0035, None);
    assert!(
        e.code
            .ranges
            .iter()
            .any(|r| r.what.contains("FACILITY_WIN32") && r.what.contains("53"))
    );
    let e = explain(0xC000_1234, None);
    assert!(e.code.ranges.iter().any(|r| r.what.contains("as an NTSTATUS")));
}

#[test]
fn a_number_in_no_range_is_just_undocumented() {
    let e = explain(0x1234_5678, None);
    assert!(!e.code.documented);
    assert!(e.code.matches.is_empty());
    assert!(e.code.ranges.is_empty());
    assert!(text(&e).contains("not documented"));
}

#[test]
fn an_unknown_value_names_the_tables_searched_and_its_documented_neighbours() {
    let e = explain(0x905, None);
    assert_eq!(e.code.searched.len(), Family::ALL.len());
    let near: Vec<(Family, u32)> = e.code.neighbours.iter().map(|n| (n.family, n.code)).collect();
    assert_eq!(
        near,
        [(Family::MstscDisconnect, 0x904), (Family::MstscDisconnect, 0x906)],
        "only near, real entries"
    );
    let t = text(&e);
    assert!(
        t.contains("Searched: mstsc disconnect reason")
            && t.contains("0x904 (disconnectReasonAtClientWinsockFDCLOSE)"),
        "{t}"
    );
    // Extended codes are searched in their two tables only.
    let x = explain(0x904, Some(0x55));
    let ext = x.extended.expect("extended");
    assert_eq!(ext.searched, ["extended_reason", "err_info"]);
    assert!(
        ext.neighbours
            .iter()
            .all(|n| matches!(n.family, Family::ExtendedReason | Family::ErrInfo))
    );
    assert!(!ext.neighbours.is_empty());
    // A documented value has neither.
    let known = explain(0x904, None);
    assert!(known.code.searched.is_empty() && known.code.neighbours.is_empty());
    // Nothing near a number far from every table: no suggestion at all rather than a far one.
    assert!(explain(0x1234_5678, None).code.neighbours.is_empty());
}

#[test]
fn json_output() {
    let v = serde_json::to_value(explain(0x904, Some(7))).expect("serializes");
    assert_eq!(v["code"]["matches"][0]["family"], "mstsc_disconnect");
    assert_eq!(
        v["code"]["matches"][0]["name"],
        "disconnectReasonAtClientWinsockFDCLOSE"
    );
    assert_eq!(v["code"]["matches"][0]["hex"], "0x904");
    assert_eq!(v["extended"]["matches"][0]["code"], 7);
    assert!(v["extended"]["matches"][1]["library"]["text"].is_string());
    assert!(v["corrections"][0]["why"].is_string());
    assert!(v["summary"].is_array());
    assert!(v["code"]["matches"][0].get("related").is_some());
}

#[test]
fn family_ids_match_json() {
    for f in Family::ALL {
        assert_eq!(serde_json::to_value(f).expect("serializes"), f.id());
        assert!(!f.title().is_empty() && !f.about().is_empty());
    }
}

#[test]
fn markdown_lists_every_entry_in_well_formed_tables() {
    let md = markdown();
    for f in Family::ALL {
        assert!(md.contains(&format!("## {}\n", f.title())), "{f:?}");
    }
    assert!(md.contains("| `0x904` (2308) | `disconnectReasonAtClientWinsockFDCLOSE` |"));
    assert!(md.contains("*ironrdp-pdu:* "));
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(rows.len(), all().len() + RANGES.len());
    for row in rows {
        let pipes = row.matches('|').count() - row.matches("\\|").count();
        assert!(pipes == 6 || pipes == 5, "malformed row: {row}");
    }
}

#[test]
fn markdown_is_deterministic() {
    assert_eq!(markdown(), markdown());
}

/// docs/errors.md is generated from the same tables (one source of truth). This test fails when the file is
/// stale; `RDPL_UPDATE_DOCS=1 cargo test -p rdpl-core --lib errors_doc` rewrites it.
// This test keeps docs/errors.md current: it reads the file (and rewrites it when asked).
#[allow(clippy::disallowed_methods)]
#[test]
fn errors_doc_is_current() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md");
    let md = super::markdown();
    #[allow(
        clippy::disallowed_methods,
        reason = "tests may read the environment (the code under test never does)"
    )]
    let update = std::env::var_os("RDPL_UPDATE_DOCS").is_some();
    if update {
        std::fs::write(&path, &md).expect("write docs/errors.md");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == md,
        "docs/errors.md is stale: run RDPL_UPDATE_DOCS=1 cargo test -p rdpl-core --lib errors_doc"
    );
}

/// The tables hold every documented value: each list in `explain/documented/` (kept with its source) is
/// compared with its table, so a missing value or a wrong name fails the build.
#[test]
fn the_tables_hold_every_documented_value() {
    let lists: [(Family, &str, &str); 5] = [
        (
            Family::MstscDisconnect,
            "mstsc_disconnect.txt",
            include_str!("documented/mstsc_disconnect.txt"),
        ),
        (
            Family::ExtendedReason,
            "extended_reason.txt",
            include_str!("documented/extended_reason.txt"),
        ),
        (
            Family::ErrInfo,
            "errinfo.txt",
            include_str!("documented/errinfo.txt"),
        ),
        (
            Family::GatewayHresult,
            "gateway_hresult.txt",
            include_str!("documented/gateway_hresult.txt"),
        ),
        (
            Family::XfreerdpExit,
            "xfreerdp_exit.txt",
            include_str!("documented/xfreerdp_exit.txt"),
        ),
    ];
    let mut missing = Vec::new();
    for (family, file, text) in lists {
        assert!(
            text.lines().any(|l| l.starts_with("# Source:")),
            "{file} names its source"
        );
        let mut n = 0;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let (value, name) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("{file}: bad line {line:?}"));
            let code = parse_code(value).unwrap_or_else(|e| panic!("{file}: {value}: {e}"));
            n += 1;
            match entry(family, code) {
                None => missing.push(format!(
                    "{file}: {value} {name} is not in the {} table",
                    family.id()
                )),
                Some(e) if !e.name.contains(name) => missing.push(format!(
                    "{file}: {value} is {name}, the table calls it {}",
                    e.name
                )),
                Some(_) => {}
            }
        }
        assert!(n >= 20, "{file}: {n} values");
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
