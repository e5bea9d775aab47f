//! The behaviour every [`Store`] backend must show. A backend's test calls [`run_all`] with a
//! way to make a fresh, empty store; every case runs on its own store and a failure names
//! its case.

mod alerts;
mod cases;
mod operator;
mod planner;
mod ready_property;
mod scopes;
mod sessions;
mod tallies;
mod templates;

use std::panic::{AssertUnwindSafe, catch_unwind};

use agentry_store::Store;

/// A fresh, empty store for one case.
pub type MakeStore<'a> = &'a dyn Fn() -> Box<dyn Store>;

type Case = (&'static str, fn(MakeStore));

const CASES: &[Case] = &[
    ("creates_and_reads_back", cases::creates_and_reads_back),
    (
        "unknown_ids_are_not_found",
        cases::unknown_ids_are_not_found,
    ),
    (
        "status_follows_the_transition_rules",
        cases::status_follows_the_transition_rules,
    ),
    (
        "updates_record_only_real_changes",
        cases::updates_record_only_real_changes,
    ),
    (
        "links_refuse_self_and_cycles",
        cases::links_refuse_self_and_cycles,
    ),
    (
        "a_failed_create_writes_nothing",
        cases::a_failed_create_writes_nothing,
    ),
    (
        "lists_filter_by_status_and_label",
        cases::lists_filter_by_status_and_label,
    ),
    (
        "ready_respects_status_time_and_dependencies",
        cases::ready_respects_status_time_and_dependencies,
    ),
    (
        "export_then_import_round_trips",
        cases::export_then_import_round_trips,
    ),
    (
        "a_failed_import_writes_nothing",
        cases::a_failed_import_writes_nothing,
    ),
    (
        "beads_import_is_idempotent",
        cases::beads_import_is_idempotent,
    ),
    (
        "ready_matches_the_core_rule",
        ready_property::ready_matches_the_core_rule,
    ),
    (
        "claims_take_only_ready_issues_once",
        sessions::claims_take_only_ready_issues_once,
    ),
    (
        "a_released_claim_is_fenced_off",
        sessions::a_released_claim_is_fenced_off,
    ),
    (
        "concurrent_claims_have_one_winner",
        sessions::concurrent_claims_have_one_winner,
    ),
    (
        "a_claim_waits_for_an_overlapping_claimed_scope",
        scopes::a_claim_waits_for_an_overlapping_claimed_scope,
    ),
    (
        "a_claim_waits_for_a_scope_lock_of_an_issue_not_closed",
        scopes::a_claim_waits_for_a_scope_lock_of_an_issue_not_closed,
    ),
    (
        "an_issue_is_not_held_back_by_its_own_lock",
        scopes::an_issue_is_not_held_back_by_its_own_lock,
    ),
    (
        "session_events_carry_the_session",
        sessions::session_events_carry_the_session,
    ),
    (
        "an_overflow_creates_a_linked_fix_issue",
        sessions::an_overflow_creates_a_linked_fix_issue,
    ),
    (
        "merge_closes_by_the_review_gate_rules",
        sessions::merge_closes_by_the_review_gate_rules,
    ),
    (
        "merging_a_fix_issue_closes_its_parent",
        sessions::merging_a_fix_issue_closes_its_parent,
    ),
    (
        "agent_runs_are_live_until_finished",
        sessions::agent_runs_are_live_until_finished,
    ),
    (
        "a_session_record_and_its_end_are_written_whole",
        sessions::a_session_record_and_its_end_are_written_whole,
    ),
    (
        "the_next_ready_time_is_the_earliest_future_one",
        sessions::the_next_ready_time_is_the_earliest_future_one,
    ),
    (
        "state_objects_are_replaced_and_listed_by_prefix",
        operator::state_objects_are_replaced_and_listed_by_prefix,
    ),
    (
        "a_deleted_state_object_is_gone_and_its_neighbours_stay",
        operator::a_deleted_state_object_is_gone_and_its_neighbours_stay,
    ),
    (
        "reviews_are_assigned_to_issues_that_wait_on_a_person",
        operator::reviews_are_assigned_to_issues_that_wait_on_a_person,
    ),
    (
        "recent_events_are_the_newest_since_a_time",
        operator::recent_events_are_the_newest_since_a_time,
    ),
    (
        "the_last_event_id_is_the_latest",
        sessions::the_last_event_id_is_the_latest,
    ),
    (
        "alert_history_is_kept_newest_first",
        alerts::alert_history_is_kept_newest_first,
    ),
    (
        "an_alert_record_keeps_absent_errors_and_every_severity",
        alerts::an_alert_record_keeps_absent_errors_and_every_severity,
    ),
    (
        "tallies_count_what_the_rows_hold",
        tallies::tallies_count_what_the_rows_hold,
    ),
    (
        "an_issue_detail_is_what_the_single_reads_give",
        sessions::an_issue_detail_is_what_the_single_reads_give,
    ),
    (
        "a_new_text_is_a_new_active_version_and_a_known_one_is_not",
        templates::a_new_text_is_a_new_active_version_and_a_known_one_is_not,
    ),
    (
        "at_most_one_version_of_a_template_is_active",
        templates::at_most_one_version_of_a_template_is_active,
    ),
    (
        "a_planner_run_is_started_then_ended",
        planner::a_planner_run_is_started_then_ended,
    ),
    (
        "contract_failures_are_counted_by_reason_since_a_time",
        planner::contract_failures_are_counted_by_reason_since_a_time,
    ),
];

/// Runs every case, each on a store from `make`, and panics listing the cases that failed.
pub fn run_all(make: MakeStore) {
    let failed: Vec<String> = CASES
        .iter()
        .filter_map(|(name, case)| {
            let outcome = catch_unwind(AssertUnwindSafe(|| case(make)));
            outcome
                .err()
                .map(|panic| format!("{name}: {}", panic_text(&panic)))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "store conformance failed:\n{}",
        failed.join("\n")
    );
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panicked".into())
}
