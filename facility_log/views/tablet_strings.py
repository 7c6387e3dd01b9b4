"""Every sentence the guard tablet's scripts show, translated on the server and handed to the
page as JSON (`tablet-strings`), so the scripts hold no English of their own. Placeholders are
Django's named ones, `%(name)s`, filled in by static/facility_log/js/tablet/text.js. Counts are
written as "label: n" rather than in sentences whose grammar depends on the number."""

from django.utils.translation import gettext_lazy as _

TABLET_STRINGS = {
    # sync panel
    "unsynced": _("Unsynced: %(count)s"),
    "online": _("Online"),
    "offline": _("Offline — saving on this tablet"),
    "signed_out": _("Signed out — sign in again to send"),
    "server_trouble": _("Server trouble — will retry"),
    "kept_until_confirmed": _(
        "Items kept on this tablet until the server confirms them: %(count)s."
    ),
    "all_on_server": _("Everything is on the server."),
    "others_waiting": _(
        "Items made by %(user)s, waiting on this tablet until %(user)s signs in: %(count)s."
    ),
    "try_again": _("Try again: %(label)s"),
    "keep_as_note": _("Keep as a note in the shift log: %(label)s"),
    "keep_as_note_question": _(
        "Keep “%(label)s” as a note in the shift log instead? The note says what was entered "
        "and what the server answered; your supervisor sees it in the daily activity report."
    ),
    "kept_as_note": _("Kept as a note in the shift log; it is sent with the rest."),
    "note_code": _("code %(code)s"),
    "note_text": _("text: %(text)s"),
    "note_narrative": _("narrative: %(text)s"),
    "note_pass_down": _("pass-down notes: %(text)s"),
    "note_refused_text": _("Not accepted by the server: %(what)s. The server said: %(answer)s"),
    "label_note_refused": _("Note about a refused record"),
    "not_stored_offline": _("This page could not be stored for offline use: %(error)s"),
    "storage_kept": _(
        "Storage on this tablet is kept: the browser will not clear it to save space."
    ),
    "storage_may_clear": _(
        "The browser may clear this tablet's storage when space runs low; add the app to the "
        "home screen to keep it."
    ),
    # the outbox: refusals and waiting (static/facility_log/js/tablet/outbox.js)
    "db_busy": _("The tablet database is busy in another tab; close the other tabs."),
    "not_saved_reason": _("Not saved."),
    "server_answered": _("The server answered %(status)s."),
    "advice_400": _(
        "The server refused a field of this record. Show this to your supervisor; the record "
        "stays on this tablet."
    ),
    "advice_404": _(
        "The server does not know the site, route or record this refers to, or you are no "
        "longer a member there. Show this to your supervisor; the record stays on this tablet."
    ),
    "advice_409": _(
        "This clashes with what the server already has (a shift already open or already ended, "
        "a round already finished). Show this to your supervisor; the record stays on this "
        "tablet."
    ),
    "advice_422": _(
        "The server already has a record with this tablet's id but different content. Do not "
        "enter it again; show this to your supervisor. The record stays on this tablet."
    ),
    "advice_refused": _(
        "The server refused this record. Show this to your supervisor; the record stays on "
        "this tablet."
    ),
    "waiting_for": _("Waiting for the record it belongs to (%(names)s) to reach the server."),
    "waiting_advice": _("It is sent as soon as that one is accepted."),
    # lone-worker check-in in the outbox (static/facility_log/js/tablet/checkin.js)
    "kind_check_in": _("check-in"),
    "label_check_in": _("Check-in"),
    # saving
    "waiting_to_send": _("waiting to send"),
    "sent": _("sent"),
    "not_saved": _(
        "NOT saved: %(error)s Nothing was changed; try again, and tell your supervisor if it "
        "keeps failing."
    ),
    # shift and log
    "site_option": _("%(name)s (%(code)s)"),
    "on_shift": _("On shift at %(site)s (%(code)s) since %(time)s."),
    "handover_heading": _("Pass-down notes from the previous shift"),
    "handover_empty": _("(no notes were left)"),
    "handover_none": _("No earlier shift has left notes at this site."),
    "handover_left_by": _("Left by %(guard)s at %(time)s"),
    "kind_shift_start": _("shift start"),
    "label_shift_start": _("Shift start at %(site)s"),
    "shift_started": _("Shift started and saved on this tablet."),
    "kind_log_entry": _("log entry"),
    "label_log_entry": _("Log entry (%(kind)s)"),
    "entry_saved": _("Log entry saved on this tablet."),
    "kind_shift_end": _("shift end"),
    "label_shift_end": _("Shift end at %(site)s"),
    "end_shift_question": _("End the shift? The pass-down notes go to the next guard."),
    "end_shift_round_open": _(
        "A round is still open; it stays open on the server until it is finished. End the "
        "shift anyway?"
    ),
    "shift_ended": _(
        "Shift ended and saved on this tablet. The report is on the server once it is sent."
    ),
    # rounds
    "route_option": _("%(name)s (%(count)s checkpoints)"),
    "route_option_due": _("%(name)s (%(count)s checkpoints) — due now"),
    "open_elsewhere_item": _(
        "%(name)s, started %(time)s on another device, checkpoints scanned: %(done)s of %(total)s."
    ),
    "resume_round": _("Take up this round: %(name)s"),
    "round_resumed": _("Round taken up on this tablet: %(name)s."),
    "kind_round_start": _("round start"),
    "label_round_start": _("Round start (%(name)s)"),
    "round_started": _("Round started: %(name)s. Saved on this tablet."),
    "round_progress": _("%(name)s: %(done)s of %(total)s checkpoints scanned"),
    "kind_round_finish": _("round finish"),
    "label_round_finish": _("Round finish (%(name)s)"),
    "confirm_finish": _("Finish the round?"),
    "confirm_finish_missing": _(
        "Checkpoints not scanned: %(count)s. They will be recorded as missed. Finish the "
        "round anyway?"
    ),
    "round_finished": _("Round finished. Saved on this tablet."),
    "report_summary": _("%(name)s: %(done)s of %(total)s checkpoints scanned."),
    "report_missed": _("Missed: %(name)s"),
    "report_late": _("Late: %(name)s, %(minutes)s min after its time"),
    "report_all_done": _("Every checkpoint was scanned in time."),
    "kind_scan": _("scan"),
    "label_scan": _("Scan %(name)s"),
    "scan_saved": _("Saved on this tablet: %(name)s."),
    "scan_saved_unknown": _(
        "Saved on this tablet. The code is not on this route as far as the tablet knows; the "
        "server will check it."
    ),
    "scan_code_unchecked": _("code %(code)s (checked by the server)"),
    "not_a_code": _("That is not a checkpoint code."),
    "no_round_open": _("No round is open: start a round before scanning."),
    "confirm_unknown": _(
        "The code %(code)s matches no checkpoint of this site that the tablet knows. It may "
        "be mistyped. Send it for the server to check anyway?"
    ),
    "refused_unknown": _(
        "Not recorded: the code %(code)s matches no checkpoint of this site. Check the code on "
        "the label and type it again."
    ),
    "refused_other_route": _(
        "Not recorded: %(name)s is a checkpoint of this site but not on the route %(route)s."
    ),
    "refused_repeat": _("Not recorded: %(name)s was already scanned in this round at %(time)s."),
    "warn_out_of_order": _(
        "Recorded, but out of order: %(name)s was scanned before %(expected)s. This route "
        "must be walked in order."
    ),
    "instructions_for": _("Instructions at %(name)s"),
    "point_camera": _("Point the camera at the checkpoint's QR label."),
    "hold_nfc": _("Hold the tablet against the checkpoint's NFC tag."),
    # camera and NFC (scanner.js)
    "qr_decoder_missing": _("The QR decoder could not be loaded."),
    "no_camera_access": _("This browser gives no camera access here. Type the code instead."),
    "camera_not_allowed": _(
        "The camera was not allowed. Type the code instead, or allow the camera in the browser "
        "settings."
    ),
    "tag_without_code": _("This tag holds no checkpoint code."),
    "tag_unreadable": _("The tag could not be read. Hold it still against the tablet."),
    # panic button (panic.js)
    "panic_no_site": _("No site chosen."),
    "kind_panic": _("duress alarm"),
    "label_panic": _("Duress alarm"),
    "panic_not_saved": _(
        "The duress alarm could NOT be saved on this tablet (%(error)s). Call for help another way."
    ),
    "panic_waiting": _(
        "Duress alarm NOT SENT YET: it has not reached anyone. This tablet sends it the moment "
        "any network returns. If you can, call for help another way."
    ),
    "panic_received": _(
        "Duress alarm received by the server: supervisors see it at the top of the alarm console."
    ),
    # incidents
    "choose_later": _("— choose later —"),
    "no_zone": _("— no zone —"),
    "kind_incident": _("incident"),
    "label_incident": _("Incident"),
    "label_incident_titled": _("Incident (%(title)s)"),
    "kind_photo": _("photo"),
    "label_photo": _("Photo for incident"),
    "photo_description": _("Photo taken on the guard tablet"),
    "kind_submission": _("submission"),
    "label_submission": _("Submission of %(label)s"),
    "incident_saved": _("Incident draft saved on this tablet."),
    "incident_saved_photo": _("Incident draft saved on this tablet with its photo."),
    "incident_submitted": _(
        "Incident saved on this tablet and submitted for review once it is sent."
    ),
    "incident_submitted_photo": _(
        "Incident saved on this tablet with its photo and submitted for review once it is sent."
    ),
    "required_occurred_from": _("When it happened: say when, even roughly."),
    "required_narrative": _("What happened: describe it in a few words."),
    "required_to_submit_category": _(
        "Category: required to submit. Choose one, or save the report as a draft."
    ),
    "required_to_submit_severity": _("Severity: required to submit."),
    "required_to_submit_occurred_from": _("When it happened: required to submit."),
    "required_to_submit_narrative": _("What happened: required to submit."),
    "person_needs_name": _("Give the person's name or a description."),
    "person_remove": _("Remove %(name)s"),
    "with_photo": _("with photo"),
    "with_persons": _("people involved: %(count)s"),
    "status_draft": _("draft"),
    "status_submitted": _("submitted for review"),
    # procedure steps ticked for the incident being reported (procedure.js)
    "kind_procedure_tick": _("procedure step"),
    "label_procedure_tick": _("Step %(step)s ticked (%(label)s)"),
    "procedure_ticks_saved": _("Steps ticked: %(count)s. Saved on this tablet with the report."),
    # visitor day sheet (visitors.js)
    "kind_visitor_in": _("visitor sign-in"),
    "label_visitor_in": _("Visitor signed in: %(name)s"),
    "kind_visitor_out": _("visitor sign-out"),
    "label_visitor_out": _("Visitor signed out: %(name)s"),
    "visitor_signed_in": _("%(name)s signed in. Saved on this tablet."),
    "visitor_signed_out": _("%(name)s signed out. Saved on this tablet."),
    "visitor_sign_out": _("Sign out %(name)s"),
    "visitor_sign_out_question": _("Sign %(name)s out now?"),
    "visitor_in_at": _("in %(time)s"),
    "visitor_out_at": _("out %(time)s"),
    "visitor_company": _("from %(company)s"),
    "visitor_host": _("visiting %(host)s"),
    "visitor_badge": _("badge %(badge)s"),
    "visitors_empty": _("No visitors on today's sheet as far as this tablet knows."),
    "visitors_no_shift": _("Start your shift to see the visitor sheet of its site."),
    "visitors_sheet_of": _("%(site)s, %(day)s: as this tablet knows it (updated %(time)s)."),
    "visitors_sheet_offline": _("%(site)s, %(day)s: as this tablet knows it (not updated yet)."),
    "visitor_required": _("Give the visitor's name and whom they visit."),
    # found items (found_items.js)
    "kind_found_item": _("found item"),
    "label_found_item": _("Found item: %(description)s"),
    "found_saved": _("Found item recorded. Saved on this tablet."),
    "found_row": _("%(description)s, kept at %(place)s"),
    "found_empty": _("No found items recorded on this tablet today."),
    "found_required": _("Give what was found, who found it and where it is kept."),
}


def tablet_strings() -> dict[str, str]:
    """The strings in the language of the current request."""
    return {key: str(text) for key, text in TABLET_STRINGS.items()}
