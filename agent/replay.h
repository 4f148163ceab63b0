/*
 * replay.h: a logged run as a source of answers. ag_replay_load reads one
 * run out of an audit log; the model's replies (ag_replay_answer, the
 * `replay` provider of llm-client.h) and the tools' results
 * (ag_replay_tool) are then served from it, and the requests' hashes let a
 * new run be compared with the old one step by step (`agent replay`).
 */
#ifndef AG_REPLAY_H
#define AG_REPLAY_H

#include <cjson/cJSON.h>

#include "agent.h"
#include "llm-client.h"

/* Loads the run whose id starts with run (NULL: the last run in the file).
 * Returns 0, or a negative code with a message in err: the file cannot be
 * read, a line is not a record, no such run, two runs match, the log was
 * written without full content. */
int ag_replay_load(const char *path, const char *run, struct ag_replay **out,
                   char *err, size_t errlen);
/* ag_replay_free(NULL) is a no-op. */
void ag_replay_free(struct ag_replay *r);

/* The run's full id, its run.start and run.end data (NULL when the run did
 * not end), and the number of runs in the file. */
const char *ag_replay_run(const struct ag_replay *r);
const cJSON *ag_replay_start(const struct ag_replay *r);
const cJSON *ag_replay_end(const struct ag_replay *r);
int ag_replay_runs_in_file(const struct ag_replay *r);

/* Replies recorded, and the hash of the request of step (0-based; NULL
 * when the log has no such request or no hash for it). */
int ag_replay_steps(const struct ag_replay *r);
const char *ag_replay_request_hash(const struct ag_replay *r, int step);

/* An ag_recorded_fn (agent.h): the result the log holds for call_id. */
int ag_replay_tool(void *ud, struct ag_agent *a, const char *call_id,
                   const char *tool, char **result, int *ok);

#endif
