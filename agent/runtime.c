/*
 * runtime.c: what the agents of one loop share: the HTTP client (one curl
 * multi handle, so connections are reused across agents), the tool worker
 * pool, and the event sinks that display, print or audit what agents do.
 */
#include <errno.h>
#include <string.h>

#include "agent.h"

int ag_rt_init(struct ag_rt *rt, uv_loop_t *loop, const cJSON *tool_sources,
               const struct ag_pool_cfg *pool_cfg)
{
    int rc;

    memset(rt, 0, sizeof *rt);
    rt->loop = loop;
    if ((rc = ag_http_new(loop, &rt->http)) < 0)
        return rc;
    if (tool_sources && cJSON_GetArraySize(tool_sources) > 0 &&
        (rc = ag_pool_new(loop, pool_cfg, tool_sources, &rt->pool)) < 0) {
        ag_http_close(rt->http);
        rt->http = NULL;
        return rc;
    }
    return 0;
}

int ag_rt_add_sink(struct ag_rt *rt, ag_event_fn fn, void *ud, int want_text)
{
    if (rt->nsinks == AG_RT_MAX_SINKS)
        return -ENOSPC;
    rt->sinks[rt->nsinks] = fn;
    rt->sink_ud[rt->nsinks++] = ud;
    if (want_text)
        rt->text_events = 1;
    return 0;
}

void ag_rt_emit(struct ag_rt *rt, const struct ag_event *ev)
{
    for (int i = 0; i < rt->nsinks; i++)
        rt->sinks[i](rt->sink_ud[i], ev);
}

void ag_rt_close(struct ag_rt *rt)
{
    ag_http_close(rt->http);
    ag_pool_close(rt->pool);
    rt->http = NULL;
    rt->pool = NULL;
}
