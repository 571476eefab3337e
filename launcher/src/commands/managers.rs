//! `rdpl import` of other connection managers' files (Remmina, mRemoteNG, RDCMan): the reading and mapping
//! is `rdpl_profiles::import` (pure); this saves the profiles, skips name clashes and reports.
//!
//! A name an existing profile (or an earlier entry of the same file) has is never overwritten: the entry is
//! skipped with the reason. The exit code is 0 when at least one profile was (or, with `--dry-run`, would be)
//! created, 2 when nothing could be imported.

use anyhow::anyhow;
use rdpl_profiles::import::{self, Batch, Format, Skipped};
use rdpl_profiles::rdp::sanitize::Policy;

use super::common::{print_json, profile_name, store_error, warn_look_alike};
use crate::cli::ImportArgs;
use crate::config::Config;
use crate::exit::{CliError, CmdResult, Exit};
use crate::json::{ImportManagerJson, ImportedProfileJson, JSON_VERSION, ProfileJson};
use crate::ui::outln;
use crate::ui::{Ui, shown, style};

pub(super) fn import(
    a: &ImportArgs,
    format: Format,
    bytes: &[u8],
    policy: &Policy,
    config: &Config,
    ui: &mut Ui,
) -> CmdResult {
    let file = a.file.display().to_string();
    let mut batch = import::read(format, bytes, policy)
        .map_err(|e| CliError::usage(anyhow!("{file}: cannot import this {format} file: {e}")))?;
    if let Some(n) = &a.name {
        let name = profile_name(n)?;
        match batch.entries.as_mut_slice() {
            [only] => only.profile.name = name,
            entries => {
                return Err(CliError::usage(anyhow!(
                    "--name needs a file with one connection; {file} has {}",
                    entries.len()
                ))
                .help("leave --name out: each connection is named after its name in the file"));
            }
        }
    }
    let store = config.store();
    let (existing, _) = store.names().map_err(store_error)?;
    // One set of the names there (and of those taken by this import): a lookup per entry, not a listing.
    let mut taken: std::collections::HashSet<String> = existing.iter().map(|n| n.key()).collect();
    let Batch {
        format,
        entries,
        mut skipped,
        notes,
    } = batch;
    let created = !a.dry_run;
    let mut done = Vec::new();
    let mut looks: std::collections::HashMap<String, rdpl_profiles::name::ProfileName> =
        existing.iter().map(|n| (n.look(), n.clone())).collect();
    for e in entries {
        if !taken.insert(e.profile.name.key()) {
            skipped.push(clash(e.source, &e.profile.name));
            continue;
        }
        // Look-alikes of the profiles there and of those imported before (one skeleton each: linear).
        let look = e.profile.name.look();
        match looks.get(&look) {
            Some(other) if other.key() != e.profile.name.key() => {
                warn_look_alike(ui, &e.profile.name, std::slice::from_ref(other));
            }
            Some(_) => {}
            None => {
                looks.insert(look, e.profile.name.clone());
            }
        }
        done.push(e);
    }
    if created && !done.is_empty() {
        // All or nothing, in one pass (Store::add_all), with progress on a terminal.
        let bar = if ui.quiet {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::with_draw_target(
                Some(done.len() as u64),
                indicatif::ProgressDrawTarget::stderr(),
            )
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("importing {pos}/{len} {wide_bar} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let profiles: Vec<_> = done.iter().map(|e| e.profile.clone()).collect();
        let clashes = store
            .add_all(&profiles, &mut |n| bar.set_position(n as u64))
            .map_err(store_error)?;
        bar.finish_and_clear();
        // Only another rdpl adding the same name between the listing above and the lock gets here.
        for i in clashes.into_iter().rev() {
            let e = done.remove(i);
            skipped.push(clash(e.source, &e.profile.name));
        }
    }
    let exit = if done.is_empty() { Exit::Usage } else { Exit::Ok };
    if a.json {
        let doc = ImportManagerJson {
            version: JSON_VERSION,
            format,
            created,
            profiles: done
                .iter()
                .map(|e| ImportedProfileJson {
                    source: &e.source,
                    path: created.then(|| store.path_of(&e.profile.name).display().to_string()),
                    profile: ProfileJson::from(&e.profile),
                    notes: &e.notes,
                })
                .collect(),
            skipped: &skipped,
            notes: &notes,
        };
        print_json(ui, &doc)?;
        return Ok(exit);
    }
    let (g, b, w, d) = (style::OK, style::BOLD, style::WARN, style::DIM);
    let verb = if created { "imported" } else { "would import" };
    outln!(
        ui,
        "{b}{}{b:#}: {format} file, {} connection(s) to import, {} skipped",
        shown(&file),
        done.len(),
        skipped.len()
    );
    for e in &done {
        outln!(
            ui,
            "{g}{verb}{g:#} {b}{}{b:#} -> {} from {}",
            shown(e.profile.name.as_str()),
            shown(&e.profile.target().to_string()),
            shown(&e.source)
        );
        for n in &e.notes {
            outln!(ui, "  {d}note{d:#}     {}: {}", shown(&n.name), shown(&n.message));
        }
    }
    for s in &skipped {
        outln!(ui, "{w}skipped{w:#} {}: {}", shown(&s.source), shown(&s.reason));
    }
    for n in &notes {
        outln!(ui, "{d}note{d:#}    {}: {}", shown(&n.name), shown(&n.message));
    }
    if done.is_empty() {
        return Err(CliError::usage(anyhow!("{file}: nothing imported"))
            .help("the lines above say why each connection was skipped"));
    }
    if created {
        ui.note(format!(
            "saved {} profile(s) in {}",
            done.len(),
            store.profiles_dir().display()
        ));
    }
    Ok(exit)
}

fn clash(source: String, name: &rdpl_profiles::name::ProfileName) -> Skipped {
    Skipped {
        source,
        reason: format!(
            "a profile named `{name}` already exists and is left as it is; `rdpl profile rename` it and import \
             again to get both"
        ),
    }
}
