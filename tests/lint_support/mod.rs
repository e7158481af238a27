//! Builds `Rule` values by hand for the matcher and lint tests (the rules
//! parser lands separately). The rule text is composed from the fields in
//! OpenBSD's `print_rule` order, so text-derived criteria (`flags`) agree.
#![allow(dead_code, clippy::wrong_self_convention, clippy::unwrap_used)] // builder names follow pf keywords

use std::net::IpAddr;

use pfblame::model::{
    Action, AddrSpec, Direction, Family, HostSpec, IfaceSpec, Port, PortOp, PortSpec, RouteKind,
    Rule, RuleRoute, StatePolicy,
};

pub struct B {
    pub r: Rule,
    flags: Option<String>,
}

pub fn rule(number: u32) -> B {
    B {
        r: Rule {
            number: Some(number),
            state: Some(StatePolicy::Keep),
            ..Rule::new(Action::Pass)
        },
        flags: None,
    }
}

pub fn net(s: &str) -> AddrSpec {
    AddrSpec::Net {
        net: s.parse().expect("test prefix"),
        negated: false,
    }
}

pub fn not_net(s: &str) -> AddrSpec {
    AddrSpec::Net {
        net: s.parse().expect("test prefix"),
        negated: true,
    }
}

pub fn port(op: PortOp, a: u16, b: Option<u16>) -> PortSpec {
    PortSpec {
        op,
        a: Port::Num(a),
        b: b.map(Port::Num),
    }
}

pub fn named_port(name: &str) -> PortSpec {
    PortSpec {
        op: PortOp::Eq,
        a: Port::Name(name.into()),
        b: None,
    }
}

impl B {
    pub fn block(mut self) -> Self {
        self.r.action = Action::Block;
        self.r.state = None;
        self
    }
    pub fn match_rule(mut self) -> Self {
        self.r.action = Action::Match;
        self.r.state = None;
        self
    }
    pub fn anchor(mut self, name: &str) -> Self {
        self.r.action = Action::Anchor;
        self.r.anchor_name = Some(name.into());
        self.r.state = None;
        self
    }
    pub fn inside(mut self, path: &str) -> Self {
        self.r.anchor_path = path.into();
        self
    }
    pub fn dir_in(mut self) -> Self {
        self.r.direction = Some(Direction::In);
        self
    }
    pub fn dir_out(mut self) -> Self {
        self.r.direction = Some(Direction::Out);
        self
    }
    pub fn quick(mut self) -> Self {
        self.r.quick = true;
        self
    }
    pub fn on(mut self, iface: &str) -> Self {
        self.r.iface = Some(IfaceSpec {
            name: iface.into(),
            negated: false,
        });
        self
    }
    pub fn not_on(mut self, iface: &str) -> Self {
        self.r.iface = Some(IfaceSpec {
            name: iface.into(),
            negated: true,
        });
        self
    }
    pub fn inet6(mut self) -> Self {
        self.r.family = Some(Family::Inet6);
        self
    }
    pub fn inet(mut self) -> Self {
        self.r.family = Some(Family::Inet);
        self
    }
    pub fn proto(mut self, p: &str) -> Self {
        self.r.protos.push(p.into());
        self
    }
    pub fn from(mut self, a: AddrSpec) -> Self {
        self.r.from.addrs.push(a);
        self
    }
    pub fn from_port(mut self, p: PortSpec) -> Self {
        self.r.from.ports.push(p);
        self
    }
    pub fn to(mut self, a: AddrSpec) -> Self {
        self.r.to.addrs.push(a);
        self
    }
    pub fn to_port(mut self, p: PortSpec) -> Self {
        self.r.to.ports.push(p);
        self
    }
    pub fn no_state(mut self) -> Self {
        self.r.state = Some(StatePolicy::No);
        self
    }
    /// Keep state with OpenBSD's implied `flags S/SA` for TCP.
    pub fn keep_state(mut self) -> Self {
        self.r.state = Some(StatePolicy::Keep);
        self.flags = Some("S/SA".into());
        self
    }
    pub fn flags(mut self, f: &str) -> Self {
        self.flags = Some(f.into());
        self
    }
    pub fn if_bound(mut self) -> Self {
        self.r.state_opts.push("if-bound".into());
        self
    }
    pub fn tagged(mut self, t: &str) -> Self {
        self.r.tagged = Some(t.into());
        self
    }
    pub fn route(mut self, kind: RouteKind, iface: &str) -> Self {
        self.r.route = Some(RuleRoute {
            kind,
            target: iface.into(),
            pool: Default::default(),
            ifaces: vec![iface.into()],
            addrs: Vec::<IpAddr>::new(),
        });
        self
    }
    pub fn route_to(self, iface: &str) -> Self {
        self.route(RouteKind::RouteTo, iface)
    }
    pub fn reply_to(self, iface: &str) -> Self {
        self.route(RouteKind::ReplyTo, iface)
    }
    /// Extra words for criteria the model keeps only in the text.
    pub fn extra(mut self, words: &str) -> Self {
        self.r.text.push_str(words);
        self
    }

    pub fn build(mut self) -> Rule {
        let extra = std::mem::take(&mut self.r.text);
        let r = &self.r;
        let mut t = match &r.action {
            Action::Anchor => format!("anchor \"{}\"", r.anchor_name.as_deref().unwrap_or("")),
            a => a.to_string(),
        };
        if let Some(d) = r.direction {
            t.push_str(&format!(" {d}"));
        }
        if r.quick {
            t.push_str(" quick");
        }
        if let Some(i) = &r.iface {
            t.push_str(if i.negated { " on ! " } else { " on " });
            t.push_str(&i.name);
        }
        match r.family {
            Some(Family::Inet) => t.push_str(" inet"),
            Some(Family::Inet6) => t.push_str(" inet6"),
            None => {}
        }
        if let [p] = r.protos.as_slice() {
            t.push_str(&format!(" proto {p}"));
        }
        if r.from == HostSpec::default() && r.to == HostSpec::default() {
            t.push_str(" all");
        } else {
            t.push_str(&format!(" from {} to {}", side(&r.from), side(&r.to)));
        }
        if !extra.is_empty() {
            t.push(' ');
            t.push_str(&extra);
        }
        let is_pass = r.action == Action::Pass;
        let tcp = r.protos.iter().all(|p| &**p == "tcp");
        if let Some(f) = &self.flags {
            if is_pass && tcp {
                t.push_str(&format!(" flags {f}"));
            }
        } else if is_pass && r.state == Some(StatePolicy::Keep) && tcp {
            t.push_str(" flags S/SA");
        }
        if is_pass && r.state == Some(StatePolicy::No) {
            t.push_str(" no state");
        }
        if !r.state_opts.is_empty() {
            t.push_str(&format!(" keep state ({})", r.state_opts.join(", ")));
        }
        if let Some(tg) = &r.tagged {
            t.push_str(&format!(" tagged {tg}"));
        }
        if let Some(rt) = &r.route {
            t.push_str(&format!(" {} {}", rt.kind, rt.target));
        }
        self.r.text = t;
        self.r
    }
}

fn side(h: &HostSpec) -> String {
    let addr = match h.addrs.as_slice() {
        [] => "any".to_string(),
        [one] => addr_text(one),
        many => format!(
            "{{ {} }}",
            many.iter().map(addr_text).collect::<Vec<_>>().join(", ")
        ),
    };
    match h.ports.as_slice() {
        [] => addr,
        [p] => format!("{addr} port {}", port_text(p)),
        many => format!(
            "{addr} port {{ {} }}",
            many.iter().map(port_text).collect::<Vec<_>>().join(" ")
        ),
    }
}

fn addr_text(a: &AddrSpec) -> String {
    match a {
        AddrSpec::Any => "any".into(),
        AddrSpec::Net { net, negated } => {
            // pfctl prints host addresses without their /32 or /128.
            let text = if net.prefix_len() == net.max_prefix_len() {
                net.addr().to_string()
            } else {
                net.to_string()
            };
            format!("{}{text}", if *negated { "! " } else { "" })
        }
        AddrSpec::Range { from, to, negated } => {
            format!("{}{from} - {to}", if *negated { "! " } else { "" })
        }
        AddrSpec::Table { name, negated } => {
            format!("{}<{name}>", if *negated { "! " } else { "" })
        }
        AddrSpec::Dynamic { iface, negated, .. } => {
            format!("{}({iface})", if *negated { "! " } else { "" })
        }
        AddrSpec::Other { text, negated } => format!("{}{text}", if *negated { "! " } else { "" }),
    }
}

fn port_text(p: &PortSpec) -> String {
    let op = match p.op {
        PortOp::Eq => "=",
        PortOp::Ne => "!=",
        PortOp::Lt => "<",
        PortOp::Le => "<=",
        PortOp::Gt => ">",
        PortOp::Ge => ">=",
        PortOp::Range => ":",
        PortOp::Inside => "><",
        PortOp::Outside => "<>",
    };
    match &p.b {
        Some(b) if p.op == PortOp::Range => format!("{}:{b}", p.a),
        Some(b) => format!("{} {op} {b}", p.a),
        None => format!("{op} {}", p.a),
    }
}

pub const SERVER: &str = "2001:db8::10";
pub const TUNNEL: &str = "gif0";
pub const LAN: &str = "em1";

/// The mission's ruleset, as `pfctl -vvsr` numbers it: `@0 block return
/// all` then the four `quick … no state` rules (@1..@4). `stateful` makes
/// rule @N keep state (OpenBSD prints it with `flags S/SA`).
pub fn mission(stateful: Option<u32>, quick: bool) -> Vec<Rule> {
    let srv = || net("2001:db8::10/128");
    let q = |b: B| if quick { b.quick() } else { b };
    let st = |n: u32, b: B| {
        if stateful == Some(n) {
            b.keep_state()
        } else {
            b.no_state()
        }
    };
    vec![
        rule(0).block().build(),
        st(
            1,
            q(rule(1).dir_in())
                .on(TUNNEL)
                .inet6()
                .proto("tcp")
                .to(srv())
                .to_port(port(PortOp::Eq, 443, None)),
        )
        .build(),
        st(
            2,
            q(rule(2).dir_out())
                .on(LAN)
                .inet6()
                .proto("tcp")
                .to(srv())
                .to_port(port(PortOp::Eq, 443, None)),
        )
        .build(),
        st(
            3,
            q(rule(3).dir_in())
                .on(LAN)
                .inet6()
                .proto("tcp")
                .from(srv())
                .from_port(port(PortOp::Eq, 443, None)),
        )
        .route_to(TUNNEL)
        .build(),
        st(
            4,
            q(rule(4).dir_out())
                .on(TUNNEL)
                .inet6()
                .proto("tcp")
                .from(srv())
                .from_port(port(PortOp::Eq, 443, None)),
        )
        .build(),
    ]
}

pub fn servers() -> pfblame::analyze::Servers {
    pfblame::analyze::Servers {
        nets: vec!["2001:db8::10/128".parse().expect("prefix")],
        ports: vec![443],
    }
}
