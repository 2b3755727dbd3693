/* Typed field readers over jansson values. Each names the JSON path of the
 * field in its error ("process.rlimits[2].hard: expected integer"). A missing
 * field is not an error: the output is left untouched and 0 is returned. */
#ifndef CELLA_SPEC_JSON_H
#define CELLA_SPEC_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "oci/spec.h"

#define JPATH_MAX 512

/* Build "parent.key" or "parent[i]" into buf. */
const char *jpath_key(char *buf, const char *parent, const char *key);
const char *jpath_idx(char *buf, const char *parent, size_t i);

/* Accept whole reals as integers (documents holding integers above INT64_MAX
 * are read with all integers as reals). */
void jset_ints_as_reals(bool on);

int jtype_error(const char *path, const char *expected, cerr_t *err);
/* Look up key in obj; returns NULL if absent or JSON null. */
json_t *jfield(json_t *obj, const char *key);

int jget_object(json_t *obj, const char *key, const char *parent, json_t **out, cerr_t *err);
int jget_array(json_t *obj, const char *key, const char *parent, json_t **out, cerr_t *err);
int jget_string(json_t *obj, const char *key, const char *parent, char **out, cerr_t *err);
int jget_bool(json_t *obj, const char *key, const char *parent, bool *out, cerr_t *err);
int jget_i64(json_t *obj, const char *key, const char *parent, int64_t *out, bool *set,
             cerr_t *err);
/* Unsigned, with a maximum (e.g. UINT32_MAX for uid). */
int jget_u64(json_t *obj, const char *key, const char *parent, uint64_t max, uint64_t *out,
             bool *set, cerr_t *err);
int jget_str_list(json_t *obj, const char *key, const char *parent, struct str_list *out,
                  cerr_t *err);
/* An object of string values -> kv list. */
int jget_str_map(json_t *obj, const char *key, const char *parent, struct kv_list *out,
                 cerr_t *err);

#endif
