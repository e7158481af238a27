//! CARP status of one firewall, as `ifconfig` prints it (issue #17): which
//! virtual host ids it holds as MASTER and which as BACKUP. Informative
//! only: no verdict depends on it (a BACKUP with states is normal, pfsync
//! copies them; `crate::analyze` tells imported states by their creatorid).

use serde::Serialize;

/// The state of one vhid (`carp_states[]` of `netinet/ip_carp.h`: INIT,
/// BACKUP, MASTER; ifconfig prints `<UNKNOWN>` past the last one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CarpState {
    Init,
    Backup,
    Master,
    /// ifconfig's `<UNKNOWN>`: a state number its table does not name.
    #[serde(rename = "<UNKNOWN>")]
    Unknown,
}

impl CarpState {
    /// As ifconfig prints it.
    pub fn word(self) -> &'static str {
        match self {
            CarpState::Init => "INIT",
            CarpState::Backup => "BACKUP",
            CarpState::Master => "MASTER",
            CarpState::Unknown => "<UNKNOWN>",
        }
    }
}

/// One virtual host id on one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CarpVhid {
    /// The interface the `carp:` line belongs to (`carp0` on OpenBSD, the
    /// parent interface such as `em0` on FreeBSD).
    pub iface: String,
    pub vhid: u32,
    pub state: CarpState,
    /// OpenBSD's `carpdev`: the interface carp runs over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carpdev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advbase: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advskew: Option<u32>,
}

/// What one `ifconfig` told: every vhid it listed, in its order. No vhid
/// at all means the host runs no CARP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Carp {
    pub vhids: Vec<CarpVhid>,
}

impl Carp {
    /// The one state every vhid is in, or `None` when they differ (a split
    /// pair, a host that is MASTER for one address and BACKUP for another)
    /// or there is no vhid.
    pub fn overall(&self) -> Option<CarpState> {
        let first = self.vhids.first()?.state;
        self.vhids.iter().all(|v| v.state == first).then_some(first)
    }

    /// The word of [`Carp::overall`]: a state, `mixed`, or `none`.
    pub fn overall_word(&self) -> &'static str {
        match (self.vhids.is_empty(), self.overall()) {
            (true, _) => "none",
            (false, Some(s)) => s.word(),
            (false, None) => "mixed",
        }
    }

    /// One line for a header or a report: `MASTER (carp0 vhid 1)`,
    /// `carp0 vhid 1 MASTER, carp1 vhid 2 BACKUP`, or `no carp interface`.
    pub fn summary(&self) -> String {
        let place = |v: &CarpVhid| format!("{} vhid {}", v.iface, v.vhid);
        match self.overall() {
            _ if self.vhids.is_empty() => "no carp interface".to_string(),
            Some(state) => {
                let places: Vec<String> = self.vhids.iter().map(place).collect();
                format!("{} ({})", state.word(), places.join(", "))
            }
            None => {
                let each: Vec<String> = self
                    .vhids
                    .iter()
                    .map(|v| format!("{} {}", place(v), v.state.word()))
                    .collect();
                each.join(", ")
            }
        }
    }
}

impl Carp {
    /// The header's short form: `MASTER` when every vhid is, else each
    /// vhid as `carp0/1 MASTER`; `none` without a carp interface.
    pub fn short(&self) -> String {
        match self.overall() {
            Some(state) => state.word().to_string(),
            None if self.vhids.is_empty() => "none".to_string(),
            None => {
                let each: Vec<String> = self
                    .vhids
                    .iter()
                    .map(|v| format!("{}/{} {}", v.iface, v.vhid, v.state.word()))
                    .collect();
                each.join(", ")
            }
        }
    }
}

/// `CARP MASTER (carp0 vhid 1)`, or `CARP unknown` when no ifconfig
/// output was read (not asked for, failed, or not ifconfig's).
pub fn carp_line(carp: Option<&Carp>) -> String {
    match carp {
        Some(c) => format!("CARP {}", c.summary()),
        None => "CARP unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vhid(iface: &str, n: u32, state: CarpState) -> CarpVhid {
        CarpVhid {
            iface: iface.into(),
            vhid: n,
            state,
            carpdev: None,
            advbase: None,
            advskew: None,
        }
    }

    #[test]
    fn the_summary_names_one_state_or_each() {
        let one = Carp {
            vhids: vec![vhid("carp0", 1, CarpState::Master)],
        };
        assert_eq!(one.summary(), "MASTER (carp0 vhid 1)");
        assert_eq!(one.overall_word(), "MASTER");
        let split = Carp {
            vhids: vec![
                vhid("carp0", 1, CarpState::Master),
                vhid("carp1", 2, CarpState::Backup),
            ],
        };
        assert_eq!(split.overall(), None);
        assert_eq!(split.overall_word(), "mixed");
        assert_eq!(split.summary(), "carp0 vhid 1 MASTER, carp1 vhid 2 BACKUP");
        assert_eq!(Carp::default().overall_word(), "none");
        assert_eq!(one.short(), "MASTER");
        assert_eq!(split.short(), "carp0/1 MASTER, carp1/2 BACKUP");
        assert_eq!(Carp::default().short(), "none");
        assert_eq!(carp_line(None), "CARP unknown");
    }
}
