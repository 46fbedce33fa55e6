//! Integration tests: HTTP over a real socket against real SQLite, PostgreSQL and MySQL.
//! One binary, so that the crate and sqlx are linked once. Each test below runs once per
//! backend (`sqlite::…`, `postgres::…`, `mysql::…`).

mod actions;
mod aggregate;
mod audit;
mod auth;
mod bounds;
mod bulk;
mod cascades;
mod choices;
mod common;
mod compression;
mod cors;
mod crud;
mod deadlocks;
mod django;
mod errors;
mod events;
mod fields;
mod hostile;
mod import;
mod inline;
mod introspection;
mod keys;
mod lifecycle;
mod list;
mod many;
mod once;
mod ordering;
mod overload;
mod pooler;
mod proxy;
mod replicas;
mod revert;
mod scopes;
mod slow_stream;
mod sso;
mod two_factor;
mod typed;
mod types;
mod versions;
mod views;
mod workbooks;

backend_tests!(
    once::a_create_sent_again_is_made_once,
    once::malformed_keys_are_400,
    once::concurrent_repeats_make_one_record,
    once::a_key_is_its_users,
    replicas::replicas_that_cannot_serve_leave_reads_to_the_database,
    introspection::a_table_named_like_a_route_is_served_under_another_name,
    deadlocks::a_deadlocked_write_is_run_again,
    events::every_write_is_an_event_for_its_viewers,
    events::a_stream_resumes_from_the_log,
    events::a_write_on_one_instance_reaches_streams_on_another,
    events::streams_are_bounded_and_can_be_off,
    slow_stream::a_stream_that_stops_reading_is_dropped_not_waited_for,
    events::streams_end_with_their_session_and_at_shutdown,
    events::a_commit_is_notified_on_postgres,
    events::writes_outside_autoadmin_are_seen_on_postgres,
    events::who_has_a_record_open,
    pooler::a_declared_pooler_serves_every_kind_of_work,
    pooler::a_pooler_said_to_be_absent_is_named_in_the_error,
    overload::a_burst_beyond_the_places_is_refused_fast_and_cleanly,
    overload::an_adaptive_limit_refuses_as_cleanly,
    bounds::a_client_that_never_reads_an_export_lets_go,
    views::each_user_sees_their_own_and_shared_ones,
    views::states_are_checked_against_their_entity,
    views::an_open_admin_shares_every_view,
    list::paging_headers_and_default_sort,
    list::sorting_is_total,
    list::every_filter_operator,
    list::plus_decodes_to_space_in_filters,
    list::react_admin_dialects,
    compression::lists_are_compressed,
    bulk::sets_fields_of_every_record,
    actions::run_what_the_descriptor_declares,
    aggregate::counts_sums_and_periods,
    bulk::is_all_or_nothing,
    bulk::checks_versions_and_refuses_bad_requests,
    list::unpaged_lists_stop_at_max_rows,
    list::csv_export,
    list::csv_export_for_excel,
    import::rows_are_checked_and_reported,
    import::an_export_imports_back_unchanged,
    import::rows_find_their_records_by_a_unique_field,
    import::database_refusals_are_the_rows_errors,
    import::bad_imports_are_4xx,
    import::a_preview_shows_the_first_rows_as_stored,
    import::an_import_is_its_owners,
    workbooks::an_export_workbook_imports_back_unchanged,
    workbooks::a_workbook_as_excel_writes_it_is_imported,
    workbooks::hostile_workbooks_are_4xx,
    revert::an_import_is_reverted_from_the_audit_log,
    import::an_import_is_a_job,
    import::a_long_import_answers_202_and_goes_on,
    import::a_slow_import_can_be_cancelled,
    import::imports_of_a_stopped_server_are_failed,
    list::count_strategies,
    list::keyset_pages_walk_every_row,
    ordering::decimals_sort_by_value,
    ordering::search_folds_case_beyond_ascii,
    ordering::keyset_pages_are_index_ranges_on_postgres,
    ordering::references_sort_by_the_value_they_show,
    many::records_carry_and_write_their_sets,
    many::lists_filter_by_sets,
    many::deletes_exports_and_restores_take_the_sets,
    choices::multichoice_fields_hold_sets_of_choices,
    inline::children_are_written_with_their_parent,
    inline::children_errors_come_back_at_their_path,
    inline::the_parents_version_covers_its_children,
    crud::create_get_update_delete,
    crud::delete_accepts_any_body,
    crud::uuid_and_text_keys,
    crud::batch_delete_is_all_or_nothing,
    errors::bad_requests_are_4xx_in_the_error_shape,
    errors::oversized_body_is_413,
    errors::read_only_entities_refuse_writes,
    types::every_type_round_trips,
    types::database_refusals_are_4xx,
    types::operators_on_every_type,
    lifecycle::write_finishes_after_client_disconnects,
    lifecycle::shutdown_finishes_in_flight_requests,
    lifecycle::health_answers,
    lifecycle::concurrent_writes_all_land,
    lifecycle::a_locked_sqlite_file_gives_503,
    lifecycle::openapi_document_is_served,
    lifecycle::column_limits_are_rules,
    lifecycle::admin_app_is_served,
    lifecycle::timeouts_answer_503_and_change_nothing,
    lifecycle::request_timeout_answers_503_and_the_write_still_completes,
    lifecycle::database_outage_is_503_then_recovers,
    lifecycle::connections_are_reused_bounded_and_replaced,
    typed::typed_validation_joins_field_rules,
    introspection::introspection_matches_the_golden_file,
    introspection::serving_without_a_config,
    introspection::check_reports_every_mismatch,
    introspection::options_choose_tables_and_schema,
    introspection::index_advice_and_its_statements,
    django::django_auth_users_are_editable,
    auth::every_route_needs_a_valid_token,
    auth::login_logout_cookies_and_csrf,
    auth::config_json_shows_what_the_user_may_do,
    auth::the_page_carries_the_users_config,
    auth::login_attempts_are_rate_limited,
    auth::a_trusted_proxy_says_the_client_address,
    auth::a_host_policy_decides,
    fields::hidden_fields_are_nowhere_for_their_users,
    fields::read_only_fields_refuse_a_change,
    fields::read_only_fields_of_inline_children_refuse_a_change,
    fields::hidden_values_survive_inline_writes_and_labels_hide_them,
    proxy::a_trusted_proxy_says_who_the_user_is,
    proxy::a_proxy_header_from_elsewhere_is_ignored,
    scopes::a_scope_keeps_its_users_to_their_rows,
    scopes::a_missing_attribute_is_a_config_error,
    hostile::scope_escapes_reach_nothing,
    keys::keys_do_what_they_were_given,
    keys::bad_key_requests_are_4xx,
    two_factor::a_second_factor_guards_the_login,
    two_factor::a_role_may_require_a_second_factor,
    two_factor::second_factor_guesses_are_rate_limited,
    two_factor::repeated_wrong_codes_slow_down,
    two_factor::bad_second_factor_requests_are_4xx,
    sso::single_sign_on_opens_a_session_with_the_providers_roles,
    sso::single_sign_on_refuses_what_it_cannot_trust,
    auth::a_fallback_secret_never_replaces_the_configured_one,
    auth::logout_elsewhere_reaches_this_instance,
    auth::sessions_end_one_all_or_another_users,
    hostile::hostile_inputs_are_rejected_or_harmless,
    audit::every_write_is_audited,
    audit::failed_writes_leave_no_audit_row,
    audit::passwords_are_redacted,
    versions::if_match_writes_only_the_version_read,
    versions::concurrent_writers_with_the_same_version_one_wins,
    versions::version_field_counts_writes,
    versions::a_batch_takes_a_version_per_id,
    cascades::dependents_say_what_a_delete_takes,
    cascades::cascades_are_audited,
    cascades::too_big_a_cascade_is_refused,
    cascades::a_delete_is_restored_with_its_cascade,
);
