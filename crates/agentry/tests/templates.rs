//! Prompt templates' versions in the store: seeded from `.agentry/prompts/` at start-up, listed,
//! shown, activated and deactivated from the command line and the HTTP API.

mod support;

use serde_json::{Value, json};
use support::server::{Server, error_of};
use support::{Repo, assert_ok, assert_refused, scripted_repo};

const TOKEN: &str = "s3cret";
const AUTH: &str = "Authorization: Bearer s3cret";
const IMPLEMENTER: &str = ".agentry/prompts/implementer.md";

fn serve(repo: &Repo) -> Server {
    Server::start(
        repo,
        &["--no-dispatch"],
        &[("SERVER__SERVICE_TOKEN", TOKEN)],
    )
}

/// The entry of `name` in a template list.
fn entry<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[test]
fn the_command_line_lists_shows_and_chooses_versions() {
    let repo = scripted_repo();
    let original = repo.read(IMPLEMENTER);
    let list = repo.json(&["templates", "list", "--json"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let expected = [
        "fixer",
        "implementer",
        "planner",
        "quality_reviewer",
        "replan",
        "spec_reviewer",
    ];
    assert_eq!(names, expected);
    assert_eq!(
        entry(&list, "implementer"),
        &json!({"name": "implementer", "active_version": 1, "versions": 1, "source": "file"})
    );

    // An edited file is a new active version at the next start-up.
    std::fs::write(repo.file(IMPLEMENTER), "Do {{ issue.title }}.\n").unwrap();
    let list = repo.json(&["templates", "list", "--json"]);
    assert_eq!(entry(&list, "implementer")["active_version"], 2);
    assert_eq!(entry(&list, "implementer")["versions"], 2);
    assert_eq!(
        repo.ok(&["templates", "show", "implementer"]),
        "Do {{ issue.title }}.\n"
    );
    assert_eq!(
        repo.ok(&["templates", "show", "implementer", "--version", "1"]),
        original
    );
    let shown = repo.json(&["templates", "show", "implementer", "--json"]);
    assert_eq!(
        (shown["version"].clone(), shown["active"].clone()),
        (json!(2), json!(true))
    );

    // The operator's choice stays while the file does not change.
    assert_eq!(
        repo.ok(&["templates", "activate", "implementer", "1"]),
        "implementer: version 1 active\n"
    );
    let list = repo.json(&["templates", "list", "--json"]);
    assert_eq!(entry(&list, "implementer")["active_version"], 1);
    assert_eq!(repo.ok(&["templates", "show", "implementer"]), original);

    repo.ok(&["templates", "deactivate", "implementer"]);
    let list = repo.json(&["templates", "list", "--json"]);
    assert_eq!(
        entry(&list, "implementer"),
        &json!({"name": "implementer", "active_version": null, "versions": 2, "source": null})
    );
    let text = repo.ok(&["templates", "list"]);
    assert!(
        text.contains("implementer") && text.contains("none"),
        "{text}"
    );
    let health = repo.json(&["planner", "health", "--json"]);
    assert_eq!(health["status"], "Critical", "{health}");
    assert_eq!(health["alerts"][0]["id"], "planner_template_inactive");
    // A run does not start on a role without a template to render.
    assert_refused(
        &repo.run(&["run", "--until-idle"]),
        &["implementer", "templates activate"],
    );
}

#[test]
fn unknown_templates_and_versions_and_broken_files_are_refused_by_name() {
    let repo = Repo::initialized();
    assert_refused(&repo.run(&["templates", "show", "nope"]), &["nope"]);
    assert_refused(
        &repo.run(&["templates", "show", "fixer", "--version", "7"]),
        &["fixer", "7"],
    );
    assert_refused(
        &repo.run(&["templates", "activate", "fixer", "7"]),
        &["fixer", "7"],
    );
    assert_refused(&repo.run(&["templates", "deactivate", "nope"]), &["nope"]);

    std::fs::write(repo.file(IMPLEMENTER), "{{ unclosed").unwrap();
    let out = repo.run(&["templates", "list", "--json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("implementer.md"), "{err}");
    // The broken text was not stored: the good files were, and fixing the file takes.
    std::fs::write(repo.file(IMPLEMENTER), "Fixed {{ issue.title }}\n").unwrap();
    let list = repo.json(&["templates", "list", "--json"]);
    assert_eq!(entry(&list, "implementer")["versions"], 2);
    let versions = repo.json(&["templates", "show", "implementer", "--json"]);
    assert_eq!(versions["body"], "Fixed {{ issue.title }}\n");
}

#[test]
fn the_api_lists_shows_and_chooses_versions() {
    let repo = Repo::initialized();
    assert_ok(&repo.run(&["templates", "list"]));
    std::fs::write(repo.file(IMPLEMENTER), "Do {{ issue.title }}.\n").unwrap();
    assert_ok(&repo.run(&["templates", "list"]));
    std::fs::write(repo.file(IMPLEMENTER), "Do {{ issue.title }} now.\n").unwrap();
    // serve seeds at start-up: the file's new text is version 3.
    let server = serve(&repo);
    let (status, list) = server.get("/api/v1/templates");
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        entry(&list, "implementer"),
        &json!({"name": "implementer", "active_version": 3, "versions": 3, "source": "file"})
    );
    let (status, versions) = server.get("/api/v1/templates/implementer");
    assert_eq!(status, 200, "{versions}");
    let bodies: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies[1..],
        ["Do {{ issue.title }}.\n", "Do {{ issue.title }} now.\n"]
    );
    assert_eq!(server.get("/api/v1/templates/nope").0, 404);

    let activate = "/api/v1/templates/implementer/activate";
    let (status, _) = server.json("POST", activate, &[], Some(json!({"version": 2})));
    assert_eq!(status, 401);
    for (body, field) in [
        (json!({}), "version"),
        (json!({"version": "two"}), "version"),
        (json!({"version": 2, "extra": 1}), "extra"),
    ] {
        let (status, answer) = server.json("POST", activate, &[AUTH], Some(body));
        assert_eq!(status, 400, "{answer}");
        assert!(error_of(&answer).contains(field), "{answer}");
    }
    let (status, answer) = server.json("POST", activate, &[AUTH], Some(json!({"version": 9})));
    assert_eq!(status, 404, "{answer}");
    assert!(error_of(&answer).contains("version 9"), "{answer}");
    let unknown = "/api/v1/templates/nope/activate";
    let (status, _) = server.json("POST", unknown, &[AUTH], Some(json!({"version": 1})));
    assert_eq!(status, 404);
    let (status, answer) = server.json("POST", activate, &[AUTH], Some(json!({"version": 2})));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["active_version"], 2);
    assert_eq!(
        repo.ok(&["templates", "show", "implementer"]),
        "Do {{ issue.title }}.\n"
    );

    let deactivate = "/api/v1/templates/implementer/deactivate";
    assert_eq!(server.json("POST", deactivate, &[], None).0, 401);
    assert_eq!(
        server
            .json("POST", "/api/v1/templates/nope/deactivate", &[AUTH], None)
            .0,
        404
    );
    let (status, answer) = server.json("POST", deactivate, &[AUTH], None);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["active_version"], Value::Null);
    let (_, report) = server.json("GET", "/api/diagnostics/planner", &[AUTH], None);
    assert_eq!(report["status"], "Critical", "{report}");
    let planners: Vec<&str> = report["planners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(planners, ["session", "goal", "replan"]);
}
