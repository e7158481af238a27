//! `record` with several hosts (issue #17): DIR gets one subdirectory per
//! host (`DIR/fw-a/`, `DIR/fw-b/`), each an ordinary recording (a single
//! poll, or `0001/`, `0002/`, …) that `--from DIR/HOST` replays alone and
//! `--from DIR` replays as a fleet. Each poll asks every host at once; a
//! host that fails a poll is reported and the others are still recorded.

use std::thread;

use super::{Root, Target, prepare_dir, record_poll, translation_for};
use crate::cli::{RecordArgs, Strategy};
use crate::exit::{Exit, Failure};
use crate::source::fleet::{HostSpec, host_pfctl};
use crate::source::{Checked, LiveOptions, LiveSource, Options, Pfctl};

struct Recorder {
    name: String,
    source: Checked<LiveSource>,
    pfctl: Pfctl,
    root: Root,
    failed: u32,
}

/// Records `args.count` polls of every host.
pub(super) fn run(args: &RecordArgs, o: &Options, hosts: &[HostSpec]) -> anyhow::Result<Exit> {
    let per_rule = args.per_rule || args.source.strategy() == Strategy::PerRule;
    let root = prepare_dir(&args.dir)?;
    let mut recorders = Vec::new();
    for spec in hosts {
        let Some(pfctl) = host_pfctl(spec, o)? else {
            return Err(Failure::new(Exit::Usage, "record polls live hosts only").into());
        };
        let source = Checked::new(LiveSource::new(
            pfctl.clone(),
            LiveOptions {
                strategy: Strategy::Auto,
                info: true,
                also_per_rule: per_rule,
                translation: translation_for(args.pf),
                carp: args.source.pfctl.carp,
            },
        ));
        recorders.push(Recorder {
            // `DIR/HOST/` (host names are checked: no `/`, no `..`).
            root: root.make_subdir(&spec.name)?,
            name: spec.name.clone(),
            source,
            pfctl,
            failed: 0,
        });
    }
    let forced = args.pf;
    let mut first_error: Option<anyhow::Error> = None;
    for n in 1..=args.count {
        let target = if args.count > 1 {
            Target::Numbered(n)
        } else {
            Target::Single
        };
        let errors: Vec<Option<anyhow::Error>> = thread::scope(|scope| {
            let running: Vec<_> = recorders
                .iter_mut()
                .map(|r| {
                    scope.spawn(move || {
                        record_poll(&mut r.source, &r.pfctl, forced, None, &r.root, target).err()
                    })
                })
                .collect();
            running
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Some(anyhow::anyhow!("the poll panicked (a bug)")))
                })
                .collect()
        });
        for (r, e) in recorders.iter_mut().zip(errors) {
            if let Some(e) = e {
                eprintln!(
                    "pfblame: {}: poll {n} not recorded: {e:#}",
                    crate::sanitize::neutralize(&r.name)
                );
                r.failed += 1;
                first_error.get_or_insert(e);
            }
        }
        if n < args.count {
            thread::sleep(args.source.interval());
        }
    }
    for r in &recorders {
        println!(
            "recorded {} of {} poll{} of {} into {}",
            args.count - r.failed,
            args.count,
            if args.count == 1 { "" } else { "s" },
            crate::sanitize::neutralize(&r.name),
            r.root.path.display()
        );
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(Exit::Ok),
    }
}
