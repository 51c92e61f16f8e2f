-- owner: generator. The memory (rolling summary and ledger) is made by a step of its own,
-- started by events (chunk.summarize): a stored chunk names the chunk its memory follows, so
-- the summary that completes one can start the next without anyone waiting or polling; each
-- version says how it was made, since a reply that ignored the asked format degrades to a
-- fallback rather than blocking the job.
ALTER TABLE generator.chunks
    ADD COLUMN previous_chunk_index integer,
    ADD COLUMN last_of_plan boolean NOT NULL DEFAULT false,
    ADD COLUMN paragraph_digests bytea[] NOT NULL DEFAULT '{}';

-- A reply's paragraphs are looked up among the job's stored chunks, so none is repeated verbatim
-- anywhere in the document (SPEC L5), however far apart the chunks are.
CREATE INDEX chunks_by_paragraph ON generator.chunks USING gin (paragraph_digests);
ALTER TABLE generator.coherence
    ADD COLUMN made_by text NOT NULL DEFAULT 'llm' CHECK (made_by IN ('llm', 'prose', 'code'));

CREATE INDEX chunks_by_previous ON generator.chunks (job_id, previous_chunk_index);

COMMENT ON COLUMN generator.chunks.previous_chunk_index IS
    'The chunk whose memory this one''s summary folds onto (the chunk before it, when it was written at dispatch); null when none.';
COMMENT ON COLUMN generator.chunks.last_of_plan IS
    'The plan''s last chunk when it was dispatched: its memory is folded in code, since no chunk waits for it unless the document is extended.';
COMMENT ON COLUMN generator.chunks.paragraph_digests IS
    'MD5 of each paragraph of the text (whitespace-normalised, 40 characters or more): a paragraph another chunk of the job already holds is cut from a reply.';
COMMENT ON COLUMN generator.coherence.made_by IS
    'llm: the summariser''s reply as asked; prose: a reply without the asked format, used as the summary; code: built in code from the previous summary and the chunk''s first and last sentences.';
