//! SIGTERM, SIGHUP, SIGINT and SIGQUIT sent to the watch screen (the real
//! binary in a private tmux server): the terminal must come back (raw mode
//! off, main screen, no mouse tracking, cursor shown) and the exit status
//! must be 128 + the signal number. Skipped, loudly, without tmux.

use std::path::Path;
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A private tmux server (`-L`), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "sig"]).stdout).into_owned()
    }

    /// `#{alternate_on} #{cursor_flag} #{mouse_any_flag}…` of the pane.
    fn flags(&self) -> String {
        let format = "alt=#{alternate_on} cursor=#{cursor_flag} mouse=#{mouse_any_flag}\
                      #{mouse_button_flag}#{mouse_standard_flag}#{mouse_sgr_flag}";
        String::from_utf8_lossy(
            &self
                .run(&["display-message", "-p", "-t", "sig", format])
                .stdout,
        )
        .trim()
        .to_string()
    }

    fn wait_for(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "waited for {text:?}; screen:\n{screen}"
            );
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn check_signal(name: &str, number: i32, dir: &Path) {
    let pidfile = dir.join(format!("{name}.pid"));
    let tmux = Tmux {
        socket: format!("pfblame-sig-{}-{name}", std::process::id()),
    };
    // The inner script writes its pid and becomes pfblame (exec); the
    // outer shell reports the status and the terminal modes afterwards.
    let script = dir.join(format!("{name}.sh"));
    std::fs::write(
        &script,
        format!(
            "echo $$ > '{}'\nexec '{}' demo -i 1\n",
            pidfile.display(),
            env!("CARGO_BIN_EXE_pfblame")
        ),
    )
    .expect("script");
    let outer = format!(
        "sh '{}'; echo \"pfblame exited with status $?\"; stty -a | tr ' ' '\\n' | \
         grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo; sleep 600",
        script.display()
    );
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "sig",
        "-x",
        "100",
        "-y",
        "30",
        "env",
        "TERM=xterm-256color",
        "sh",
        "-c",
        &outer,
    ]);
    assert!(started.status.success(), "{started:?}");
    tmux.wait_for("pfblame │ server");
    assert!(tmux.flags().starts_with("alt=1"), "{}", tmux.flags());
    let pid = std::fs::read_to_string(&pidfile).expect("pid written");
    let sent = Command::new("kill")
        .args([&format!("-{name}"), pid.trim()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let screen = tmux.wait_for("pfblame exited with status");
    let expected = format!("pfblame exited with status {}", 128 + number);
    assert!(screen.contains(&expected), "{name}: {screen}");
    assert!(
        !screen.contains("pfblame │ server"),
        "{name}: the TUI is still shown:\n{screen}"
    );
    let modes = tmux.wait_for("icanon");
    assert!(
        modes.contains(" icanon") || modes.contains("\nicanon"),
        "{name}: canonical mode not restored:\n{modes}"
    );
    assert!(
        !modes.contains("-icanon") && !modes.contains("-echo"),
        "{name}:\n{modes}"
    );
    assert_eq!(tmux.flags(), "alt=0 cursor=1 mouse=0000", "{name}");
}

#[test]
fn termination_signals_restore_the_terminal_and_exit_128_plus_n() {
    if !tmux_available() {
        eprintln!("SKIPPED tui_signals: tmux is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, number) in [("TERM", 15), ("HUP", 1), ("INT", 2), ("QUIT", 3)] {
        check_signal(name, number, dir.path());
    }
}
