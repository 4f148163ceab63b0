/*
 * llm-price.c: what known models cost and how much context they take, for
 * the cost limit and the context budget. Prices are USD per million tokens
 * as published by the providers in 2025; a task can override them
 * (model.price) and should for anything not listed. Unknown models (local
 * ones, usually) cost nothing here and get a modest context budget.
 */
#include <string.h>

#include "agent.h"

static const struct {
    const char *prefix;
    double in, out;
    long context;
} models[] = {
    {"gpt-4o-mini", 0.15, 0.60, 128000},
    {"gpt-4o", 2.50, 10.00, 128000},
    {"gpt-4.1-nano", 0.10, 0.40, 1047576},
    {"gpt-4.1-mini", 0.40, 1.60, 1047576},
    {"gpt-4.1", 2.00, 8.00, 1047576},
    {"gpt-5-nano", 0.05, 0.40, 400000},
    {"gpt-5-mini", 0.25, 2.00, 400000},
    {"gpt-5", 1.25, 10.00, 400000},
    {"o3-mini", 1.10, 4.40, 200000},
    {"o4-mini", 1.10, 4.40, 200000},
    {"o3", 2.00, 8.00, 200000},
    {"claude-3-5-haiku", 0.80, 4.00, 200000},
    {"claude-3-5-sonnet", 3.00, 15.00, 200000},
    {"claude-3-7-sonnet", 3.00, 15.00, 200000},
    {"claude-haiku-4-5", 1.00, 5.00, 200000},
    {"claude-sonnet-4", 3.00, 15.00, 200000},
    {"claude-opus-4", 15.00, 75.00, 200000},
};

void ag_model_info(const char *model, struct ag_model_info *out)
{
    size_t best = 0, bestlen = 0;

    memset(out, 0, sizeof *out);
    out->context = 32768;
    if (!model)
        return;
    for (size_t i = 0; i < AG_ARRAY_SIZE(models); i++) {
        size_t n = strlen(models[i].prefix);
        if (n > bestlen && strncmp(model, models[i].prefix, n) == 0) {
            best = i;
            bestlen = n;
        }
    }
    if (!bestlen)
        return;
    out->price_in = models[best].in;
    out->price_out = models[best].out;
    out->context = models[best].context;
    out->known = 1;
}
