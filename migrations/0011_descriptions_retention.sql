-- owner: the operator. What every schema, table and column is for, as COMMENT ON (plain Postgres):
-- `longform db schema` and docs/SCHEMA.md read them back from the catalog of a database migrated
-- to the latest version, so the migrations are the one source of truth. A later migration that
-- adds a table or column describes it the same way. Also what the retention policy needs (SPEC S1).

COMMENT ON SCHEMA longform_meta IS 'The operator''s: the migrations ledger and functions every service shares.';
COMMENT ON SCHEMA gateway IS 'The gateway''s: accounts and the requests users made, as received.';
COMMENT ON SCHEMA planner IS 'The planner''s: each job''s plan (outline, sections, chunk budgets).';
COMMENT ON SCHEMA generator IS 'The generator''s: accepted chunk text, the coherence state, every writing LLM call.';
COMMENT ON SCHEMA assembler IS 'The assembler''s: the final documents.';
COMMENT ON SCHEMA audit IS 'The audit service''s: the append-only event log and the job state derived from it.';

COMMENT ON TABLE longform_meta.migrations IS 'Each migration applied to this database (longform db migrate records it; db check compares its checksum with the file).';
COMMENT ON COLUMN longform_meta.migrations.version IS 'The number of the file in migrations/ (0001_...).';
COMMENT ON COLUMN longform_meta.migrations.name IS 'The rest of the file name.';
COMMENT ON COLUMN longform_meta.migrations.checksum IS 'sha256 of the file''s text when it was applied; an applied file must never change.';
COMMENT ON COLUMN longform_meta.migrations.applied_at IS 'When it was applied.';

-- The tables every service has in its own schema (migrations/0006, 0008, 0010).
DO $$
DECLARE s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['gateway', 'planner', 'generator', 'assembler', 'audit'] LOOP
        EXECUTE format($c$
            COMMENT ON TABLE %1$I.outbox IS 'Events committed in the same transaction as the state they describe; the outbox relay publishes them to NATS and marks them.';
            COMMENT ON COLUMN %1$I.outbox.id IS 'Commit order within the service (the relay''s sweep publishes in this order).';
            COMMENT ON COLUMN %1$I.outbox.event_id IS 'The event''s id, also its Nats-Msg-Id (dedupe) and its key in audit.events.';
            COMMENT ON COLUMN %1$I.outbox.type IS 'The event type, e.g. chunk.processed; its subject is longform.<type>.';
            COMMENT ON COLUMN %1$I.outbox.payload IS 'The whole envelope as published (secrets already redacted).';
            COMMENT ON COLUMN %1$I.outbox.created_at IS 'When the transaction wrote it.';
            COMMENT ON COLUMN %1$I.outbox.published_at IS 'When the relay saw JetStream acknowledge it; NULL until then.';
            COMMENT ON TABLE %1$I.processed_events IS 'Ids of the events this service has handled, recorded in the same transaction as the handler''s writes (idempotency).';
            COMMENT ON COLUMN %1$I.processed_events.event_id IS 'The handled event''s id.';
            COMMENT ON COLUMN %1$I.processed_events.processed_at IS 'When it was handled.';
        $c$, s);
    END LOOP;
    FOREACH s IN ARRAY ARRAY['gateway', 'planner', 'generator', 'assembler'] LOOP
        EXECUTE format($c$
            COMMENT ON TABLE %1$I.row_changes IS 'Notes of rows inserted or updated, written by trigger and turned into db.row_* events before the same transaction commits; always empty between transactions.';
            COMMENT ON COLUMN %1$I.row_changes.id IS 'Order of the notes.';
            COMMENT ON COLUMN %1$I.row_changes.xid IS 'The transaction that wrote the row.';
            COMMENT ON COLUMN %1$I.row_changes.table_name IS 'schema.table of the row.';
            COMMENT ON COLUMN %1$I.row_changes.op IS 'insert or update.';
            COMMENT ON COLUMN %1$I.row_changes.row_id IS 'The row''s primary key.';
            COMMENT ON COLUMN %1$I.row_changes.fields IS 'Inserted fields, or each changed column''s old and new value (long text as length, sha256, preview; secrets redacted).';
            COMMENT ON TABLE %1$I.deleted_jobs IS 'Jobs their owner deleted: this service erased its rows of them, and a trigger drops any row still written for them.';
            COMMENT ON COLUMN %1$I.deleted_jobs.job_id IS 'The deleted job.';
            COMMENT ON COLUMN %1$I.deleted_jobs.deleted_at IS 'When this service erased its rows of it.';
        $c$, s);
    END LOOP;
    FOREACH s IN ARRAY ARRAY['planner', 'generator'] LOOP
        EXECUTE format($c$
            COMMENT ON TABLE %1$I.llm_calls IS 'Every LLM call this service made, kept or discarded: the full prompt and reply, usage and outcome (llm.call events link here by longform.stored_as).';
            COMMENT ON COLUMN %1$I.llm_calls.id IS 'The call''s id, named by its llm.call event.';
            COMMENT ON COLUMN %1$I.llm_calls.job_id IS 'The job it was made for.';
            COMMENT ON COLUMN %1$I.llm_calls.purpose IS 'outline, write or summarize.';
            COMMENT ON COLUMN %1$I.llm_calls.chunk_index IS 'The chunk it wrote or summarised; NULL for the outline.';
            COMMENT ON COLUMN %1$I.llm_calls.attempt IS 'Attempt number for this purpose and chunk, from 1 (retries and continuations count).';
            COMMENT ON COLUMN %1$I.llm_calls.provider IS 'openai, openai-compatible or anthropic.';
            COMMENT ON COLUMN %1$I.llm_calls.model IS 'The model asked.';
            COMMENT ON COLUMN %1$I.llm_calls.system_prompt IS 'The system prompt sent.';
            COMMENT ON COLUMN %1$I.llm_calls.prompt IS 'The user prompt sent.';
            COMMENT ON COLUMN %1$I.llm_calls.response IS 'The reply as received (empty when the call failed).';
            COMMENT ON COLUMN %1$I.llm_calls.words IS 'Words in the reply (contracts.wordcount).';
            COMMENT ON COLUMN %1$I.llm_calls.finish_reason IS 'The provider''s finish or stop reason.';
            COMMENT ON COLUMN %1$I.llm_calls.input_tokens IS 'Input tokens the provider reported.';
            COMMENT ON COLUMN %1$I.llm_calls.output_tokens IS 'Output tokens the provider reported.';
            COMMENT ON COLUMN %1$I.llm_calls.latency_ms IS 'Time from request to the whole reply.';
            COMMENT ON COLUMN %1$I.llm_calls.first_token_ms IS 'Time to the first streamed token, when streamed.';
            COMMENT ON COLUMN %1$I.llm_calls.kept IS 'Whether the reply was used (false: rejected, failed or superseded).';
            COMMENT ON COLUMN %1$I.llm_calls.error IS 'The error, when the call failed or the reply was rejected.';
            COMMENT ON COLUMN %1$I.llm_calls.created_at IS 'When the call was stored.';
        $c$, s);
    END LOOP;
END $$;

COMMENT ON TABLE gateway.users IS 'Accounts.';
COMMENT ON COLUMN gateway.users.id IS 'The account''s id (user_id everywhere else).';
COMMENT ON COLUMN gateway.users.name IS 'Display name.';
COMMENT ON COLUMN gateway.users.token_hash IS 'sha256 of the API token issued at sign-up (never the token).';
COMMENT ON COLUMN gateway.users.created_at IS 'When the account was created.';
COMMENT ON TABLE gateway.jobs IS 'Every job a user asked for, as received (the input of SPEC S1).';
COMMENT ON COLUMN gateway.jobs.id IS 'The job''s id (job_id everywhere else).';
COMMENT ON COLUMN gateway.jobs.user_id IS 'The owner.';
COMMENT ON COLUMN gateway.jobs.mode IS 'generate or rewrite.';
COMMENT ON COLUMN gateway.jobs.title IS 'Title given by the user.';
COMMENT ON COLUMN gateway.jobs.instructions IS 'Instructions given by the user.';
COMMENT ON COLUMN gateway.jobs.target_words IS 'Words the document must reach (1..500,000).';
COMMENT ON COLUMN gateway.jobs.model IS 'Model asked for this job; NULL is the configured default.';
COMMENT ON COLUMN gateway.jobs.created_at IS 'When the job was accepted.';
COMMENT ON TABLE gateway.sources IS 'The source document of a rewrite job, verbatim, written with its job.';
COMMENT ON COLUMN gateway.sources.job_id IS 'The rewrite job.';
COMMENT ON COLUMN gateway.sources.filename IS 'The uploaded file''s name, if any.';
COMMENT ON COLUMN gateway.sources.media_type IS 'The upload''s media type, if any.';
COMMENT ON COLUMN gateway.sources.bytes IS 'Size of text in UTF-8.';
COMMENT ON COLUMN gateway.sources.words IS 'Words in text (contracts.wordcount).';
COMMENT ON COLUMN gateway.sources.sha256 IS 'sha256 of text as stored.';
COMMENT ON COLUMN gateway.sources.text IS 'The source (newlines normalised), stored uncompressed for substr() slices.';
COMMENT ON COLUMN gateway.sources.created_at IS 'When it was received.';

COMMENT ON TABLE planner.plans IS 'One plan per job, stored before any chunk is written (SPEC C1), with the job''s progress through writing.';
COMMENT ON COLUMN planner.plans.job_id IS 'The job.';
COMMENT ON COLUMN planner.plans.user_id IS 'Its owner.';
COMMENT ON COLUMN planner.plans.mode IS 'generate or rewrite.';
COMMENT ON COLUMN planner.plans.title IS 'The job''s title.';
COMMENT ON COLUMN planner.plans.instructions IS 'The job''s instructions.';
COMMENT ON COLUMN planner.plans.target_words IS 'The job''s target.';
COMMENT ON COLUMN planner.plans.planned_words IS 'Sum of the chunk budgets (at least the target).';
COMMENT ON COLUMN planner.plans.width IS 'Sections written at the same time.';
COMMENT ON COLUMN planner.plans.model IS 'The job''s model, if one was asked.';
COMMENT ON COLUMN planner.plans.style IS 'The style sheet (tone, tense, point of view).';
COMMENT ON COLUMN planner.plans.outline_source IS 'Where the outline came from (the LLM, or made in code).';
COMMENT ON COLUMN planner.plans.state IS 'writing, assembling, failed or cancelled.';
COMMENT ON COLUMN planner.plans.extension_round IS 'How many times the job was extended for length.';
COMMENT ON COLUMN planner.plans.created_at IS 'When the plan was stored.';
COMMENT ON COLUMN planner.plans.epoch IS 'Incremented by each cancel; a chunk.write of an older epoch is abandoned.';
COMMENT ON TABLE planner.sections IS 'The outline''s leaves: each section''s path, brief, word budget and hand-offs.';
COMMENT ON COLUMN planner.sections.job_id IS 'The job.';
COMMENT ON COLUMN planner.sections.section_index IS 'Order in the document.';
COMMENT ON COLUMN planner.sections.path IS 'Part > chapter > section titles.';
COMMENT ON COLUMN planner.sections.brief IS 'What the section must cover.';
COMMENT ON COLUMN planner.sections.target_words IS 'Its word budget.';
COMMENT ON COLUMN planner.sections.handoff_in IS 'What the section before hands to it.';
COMMENT ON COLUMN planner.sections.handoff_out IS 'What it hands to the section after.';
COMMENT ON TABLE planner.chunks IS 'Each chunk''s budget and status (for rewrite, its source passage); budgets sum to at least the target.';
COMMENT ON COLUMN planner.chunks.job_id IS 'The job.';
COMMENT ON COLUMN planner.chunks.chunk_index IS 'Order in the document.';
COMMENT ON COLUMN planner.chunks.section_index IS 'Its section.';
COMMENT ON COLUMN planner.chunks.target_words IS 'Its word budget.';
COMMENT ON COLUMN planner.chunks.source_text IS 'For rewrite, the passage of the source it rewrites.';
COMMENT ON COLUMN planner.chunks.status IS 'pending, dispatched, done or failed.';
COMMENT ON COLUMN planner.chunks.words IS 'Words written, once done.';
COMMENT ON COLUMN planner.chunks.dispatched_at IS 'When its chunk.write was sent.';
COMMENT ON COLUMN planner.chunks.done_at IS 'When it was reported done.';
COMMENT ON TABLE planner.stops IS 'Cancels that arrived before the plan existed: the plan is born cancelled.';
COMMENT ON COLUMN planner.stops.job_id IS 'The job.';
COMMENT ON COLUMN planner.stops.requested_at IS 'When the cancel arrived.';

COMMENT ON TABLE generator.chunks IS 'The accepted text of each chunk, stored at once and never sent to the LLM again; the document is assembled from these.';
COMMENT ON COLUMN generator.chunks.job_id IS 'The job.';
COMMENT ON COLUMN generator.chunks.chunk_index IS 'Order in the document.';
COMMENT ON COLUMN generator.chunks.text IS 'The accepted text.';
COMMENT ON COLUMN generator.chunks.words IS 'Its words (contracts.wordcount).';
COMMENT ON COLUMN generator.chunks.target_words IS 'The chunk''s budget.';
COMMENT ON COLUMN generator.chunks.created_at IS 'When it was accepted.';
COMMENT ON TABLE generator.coherence IS 'The state carried from chunk to chunk (SPEC C2), one version per chunk folded in. Intermediate working state: the retention policy may prune superseded versions of finished jobs.';
COMMENT ON COLUMN generator.coherence.job_id IS 'The job.';
COMMENT ON COLUMN generator.coherence.version IS '1, 2, ... per job; prompts are built from the latest.';
COMMENT ON COLUMN generator.coherence.caused_by_chunk IS 'The chunk whose text this version folded in.';
COMMENT ON COLUMN generator.coherence.summary IS 'Rolling summary of what was written (bounded).';
COMMENT ON COLUMN generator.coherence.ledger IS 'Named entities, terms and decisions (bounded).';
COMMENT ON COLUMN generator.coherence.style IS 'The style sheet.';
COMMENT ON COLUMN generator.coherence.created_at IS 'When the version was stored.';
COMMENT ON TABLE generator.stops IS 'The highest cancelled epoch of each job: writes of that epoch or older stop before their next LLM call.';
COMMENT ON COLUMN generator.stops.job_id IS 'The job.';
COMMENT ON COLUMN generator.stops.epoch IS 'Writes dispatched in this epoch or before stop.';

COMMENT ON TABLE assembler.documents IS 'The final document of each job, built inside Postgres from generator.chunks; never pruned.';
COMMENT ON COLUMN assembler.documents.job_id IS 'The job.';
COMMENT ON COLUMN assembler.documents.body IS 'The document, stored uncompressed so downloads read it in substr() slices.';
COMMENT ON COLUMN assembler.documents.words IS 'Its words (contracts.wordcount).';
COMMENT ON COLUMN assembler.documents.chunks IS 'Chunks it was built from.';
COMMENT ON COLUMN assembler.documents.round IS 'Assembly round (1, then one more per extension).';
COMMENT ON COLUMN assembler.documents.assembled_at IS 'When it was (last) assembled.';

COMMENT ON TABLE audit.events IS 'The audit log: every event of every job and account, append-only (refused UPDATE, DELETE, TRUNCATE except the owner''s erasure); never pruned.';
COMMENT ON COLUMN audit.events.stream_id IS 'The job''s id, or user:<id> for account events.';
COMMENT ON COLUMN audit.events.seq IS 'Gapless sequence within the stream (websocket resume point).';
COMMENT ON COLUMN audit.events.event_id IS 'The event''s id (idempotency).';
COMMENT ON COLUMN audit.events.job_id IS 'The job, if any.';
COMMENT ON COLUMN audit.events.user_id IS 'The account, if any.';
COMMENT ON COLUMN audit.events.type IS 'The event type.';
COMMENT ON COLUMN audit.events.service IS 'The service that emitted it.';
COMMENT ON COLUMN audit.events.occurred_at IS 'When it happened (the emitting service''s clock).';
COMMENT ON COLUMN audit.events.recorded_at IS 'When it was stored.';
COMMENT ON COLUMN audit.events.data IS 'The event''s fields (secrets redacted).';
COMMENT ON TABLE audit.stream_heads IS 'The last seq of each stream; its row lock keeps seq gapless across audit replicas.';
COMMENT ON COLUMN audit.stream_heads.stream_id IS 'The stream.';
COMMENT ON COLUMN audit.stream_heads.last_seq IS 'Its last seq (kept after an erasure, so no seq is reused).';
COMMENT ON TABLE audit.job_state IS 'Job state derived from audit.events (rebuildable: longform db rebuild-projections).';
COMMENT ON COLUMN audit.job_state.job_id IS 'The job.';
COMMENT ON COLUMN audit.job_state.user_id IS 'Its owner.';
COMMENT ON COLUMN audit.job_state.status IS 'requested, writing, assembling, extending, completed, failed, cancelling or cancelled.';
COMMENT ON COLUMN audit.job_state.title IS 'The job''s title.';
COMMENT ON COLUMN audit.job_state.mode IS 'generate or rewrite.';
COMMENT ON COLUMN audit.job_state.target_words IS 'The job''s target.';
COMMENT ON COLUMN audit.job_state.words IS 'Words written so far (the document''s, once completed).';
COMMENT ON COLUMN audit.job_state.chunks_done IS 'Chunks done.';
COMMENT ON COLUMN audit.job_state.chunks_total IS 'Chunks planned.';
COMMENT ON COLUMN audit.job_state.error IS 'Why it failed, with the resume advice.';
COMMENT ON COLUMN audit.job_state.last_seq IS 'Seq of the last event applied.';
COMMENT ON COLUMN audit.job_state.updated_at IS 'When the last event was applied.';
COMMENT ON TABLE audit.erased_jobs IS 'Jobs their owner deleted: their events were erased; a late event of one is dropped.';
COMMENT ON COLUMN audit.erased_jobs.job_id IS 'The erased job.';
COMMENT ON COLUMN audit.erased_jobs.user_id IS 'Its owner.';
COMMENT ON COLUMN audit.erased_jobs.events IS 'How many events were erased.';
COMMENT ON COLUMN audit.erased_jobs.erased_at IS 'When.';

-- Retention (off unless the operator sets LONGFORM_RETENTION_*): the generator prunes superseded
-- coherence versions of finished jobs. Which jobs are due is the audit service's knowledge: this
-- function tells the generator only that (job, owner, status), never the events themselves. A job
-- is due when its last job.completed (job.failed) event was recorded longer ago than the window;
-- a NULL window is off. The partial index finds those events without reading a job's stream.
CREATE INDEX events_job_endings ON audit.events (job_id, recorded_at) WHERE type IN ('job.completed', 'job.failed');

CREATE FUNCTION audit.jobs_due_for_retention(completed_for interval, failed_for interval, only_job uuid DEFAULT NULL)
RETURNS TABLE (job_id uuid, user_id uuid, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT j.job_id, j.user_id, j.status FROM audit.job_state j
     WHERE j.status IN ('completed', 'failed') AND (only_job IS NULL OR j.job_id = only_job)
       AND (SELECT max(e.recorded_at) FROM audit.events e
             WHERE e.job_id = j.job_id AND e.type = 'job.' || j.status)
           < now() - CASE j.status WHEN 'completed' THEN completed_for ELSE failed_for END
$$;
COMMENT ON FUNCTION audit.jobs_due_for_retention(interval, interval, uuid) IS
    'Jobs completed (failed) longer ago than the window: what the retention policy may prune.';
REVOKE ALL ON FUNCTION audit.jobs_due_for_retention(interval, interval, uuid) FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO longform_generator;
GRANT EXECUTE ON FUNCTION audit.jobs_due_for_retention(interval, interval, uuid) TO longform_generator;
