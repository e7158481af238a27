//! `pfblame completions SHELL` prints scripts that the shells accept.

use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

fn pfblame() -> Command {
    Command::cargo_bin("pfblame").expect("the binary is built")
}

fn script(shell: &str) -> String {
    let out = pfblame()
        .args(["completions", shell])
        .output()
        .expect("pfblame runs");
    assert!(out.status.success(), "completions {shell}: {out:?}");
    String::from_utf8(out.stdout).expect("a script is text")
}

#[test]
fn bash_loads_the_completion_and_registers_pfblame() {
    let script = script("bash");
    let out = Command::new("bash")
        .args(["-c", r#"eval "$PFBLAME_COMPLETION" && complete -p pfblame"#])
        .env("PFBLAME_COMPLETION", &script)
        .output()
        .expect("bash runs");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        printed.contains("-F _pfblame pfblame"),
        "complete -p: {printed}"
    );
}

#[test]
fn bash_completes_subcommands_and_options() {
    let script = script("bash");
    // What bash does on `pfblame rep<TAB>` and `pfblame report --for<TAB>`.
    let complete = |words: &str, cword: usize| {
        let program = format!(
            r#"eval "$PFBLAME_COMPLETION"; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE="{words}"; COMP_POINT=${{#COMP_LINE}}; _pfblame pfblame "${{COMP_WORDS[$COMP_CWORD]}}" "${{COMP_WORDS[$((COMP_CWORD-1))]}}"; printf '%s\n' "${{COMPREPLY[@]}}""#
        );
        let out = Command::new("bash")
            .args(["-c", &program])
            .env("PFBLAME_COMPLETION", &script)
            .output()
            .expect("bash runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let subcommands = complete("pfblame rep", 1);
    assert!(subcommands.lines().any(|l| l == "report"), "{subcommands}");
    let options = complete("pfblame report --for", 2);
    assert!(options.lines().any(|l| l == "--format"), "{options}");
}

#[test]
fn every_supported_shell_gets_a_script_naming_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = script(shell);
        for sub in ["report", "lint", "record", "parse"] {
            assert!(script.contains(sub), "{shell} script lacks {sub}");
        }
    }
}

/// zsh and fish check their scripts' syntax when they are installed.
#[test]
fn zsh_and_fish_accept_their_scripts_when_installed() {
    for (shell, check) in [("zsh", vec!["-n"]), ("fish", vec!["--no-execute"])] {
        let Ok(mut child) = Command::new(shell)
            .args(&check)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("SKIPPED: {shell} is not installed");
            continue;
        };
        use std::io::Write;
        let script = script(shell);
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(script.as_bytes())
            .expect("write the script");
        let out = child.wait_with_output().expect("the shell ends");
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn posix_sh_is_refused_with_the_supported_list() {
    let out = pfblame()
        .args(["completions", "sh"])
        .output()
        .expect("pfblame runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));
}
