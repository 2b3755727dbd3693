#define _GNU_SOURCE
#include "spec_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *jpath_key(char *buf, const char *parent, const char *key)
{
    int n = parent == NULL || parent[0] == '\0' ? snprintf(buf, JPATH_MAX, "%s", key)
                                                : snprintf(buf, JPATH_MAX, "%s.%s", parent, key);
    if (n >= JPATH_MAX) /* a path this deep is cut; the message stays readable */
        buf[JPATH_MAX - 1] = '\0';
    return buf;
}

const char *jpath_idx(char *buf, const char *parent, size_t i)
{
    if (snprintf(buf, JPATH_MAX, "%s[%zu]", parent, i) >= JPATH_MAX)
        buf[JPATH_MAX - 1] = '\0';
    return buf;
}

/* Set while reading a document whose integers jansson had to read as reals. */
static bool ints_as_reals;

void jset_ints_as_reals(bool on)
{
    ints_as_reals = on;
}

int jtype_error(const char *path, const char *expected, cerr_t *err)
{
    return cerr_set(err, 0, "%s: expected %s", path, expected);
}

json_t *jfield(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

int jget_object(json_t *obj, const char *key, const char *parent, json_t **out, cerr_t *err)
{
    char p[JPATH_MAX];
    json_t *v = jfield(obj, key);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_object(v))
        return jtype_error(jpath_key(p, parent, key), "object", err);
    *out = v;
    return 0;
}

int jget_array(json_t *obj, const char *key, const char *parent, json_t **out, cerr_t *err)
{
    char p[JPATH_MAX];
    json_t *v = jfield(obj, key);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_array(v))
        return jtype_error(jpath_key(p, parent, key), "array", err);
    *out = v;
    return 0;
}

int jget_string(json_t *obj, const char *key, const char *parent, char **out, cerr_t *err)
{
    char p[JPATH_MAX];
    json_t *v = jfield(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return jtype_error(jpath_key(p, parent, key), "string", err);
    char *s = strdup(json_string_value(v));
    if (s == NULL)
        return cerr_set(err, 0, "out of memory");
    free(*out);
    *out = s;
    return 0;
}

int jget_bool(json_t *obj, const char *key, const char *parent, bool *out, cerr_t *err)
{
    char p[JPATH_MAX];
    json_t *v = jfield(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return jtype_error(jpath_key(p, parent, key), "boolean", err);
    *out = json_is_true(v);
    return 0;
}

int jget_i64(json_t *obj, const char *key, const char *parent, int64_t *out, bool *set, cerr_t *err)
{
    char p[JPATH_MAX];
    json_t *v = jfield(obj, key);
    if (v == NULL)
        return 0;
    if (ints_as_reals && json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
        fabs(json_real_value(v)) < 9223372036854775807.0) {
        *out = (int64_t)json_real_value(v); /* a document read with integers as reals */
    } else if (!json_is_integer(v)) {
        return jtype_error(jpath_key(p, parent, key), "integer", err);
    } else {
        *out = json_integer_value(v);
    }
    if (set)
        *set = true;
    return 0;
}

int jget_u64(json_t *obj, const char *key, const char *parent, uint64_t max, uint64_t *out,
             bool *set, cerr_t *err)
{
    char p[JPATH_MAX];
    json_t *v = jfield(obj, key);
    if (v == NULL)
        return 0;
    /* jansson stores integers as signed 64 bit; large unsigned values such as
     * 18446744073709551615 (RLIM_INFINITY) arrive as reals. */
    if (ints_as_reals && json_is_real(v)) {
        double d = json_real_value(v);
        /* 2^64 - 1 is not representable: it reads as 2^64, meaning "max". */
        if (d >= 0 && d == floor(d) && d <= 18446744073709551616.0) {
            *out = d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
            if (*out > max)
                return cerr_set(err, 0, "%s: value out of range", jpath_key(p, parent, key));
            if (set)
                *set = true;
            return 0;
        }
        return jtype_error(jpath_key(p, parent, key), "unsigned integer", err);
    }
    if (!json_is_integer(v))
        return jtype_error(jpath_key(p, parent, key), "integer", err);
    json_int_t i = json_integer_value(v);
    if (i < 0)
        return jtype_error(jpath_key(p, parent, key), "unsigned integer", err);
    if ((uint64_t)i > max)
        return cerr_set(err, 0, "%s: value out of range", jpath_key(p, parent, key));
    *out = (uint64_t)i;
    if (set)
        *set = true;
    return 0;
}

int jget_str_list(json_t *obj, const char *key, const char *parent, struct str_list *out,
                  cerr_t *err)
{
    char p[JPATH_MAX], ip[JPATH_MAX];
    json_t *arr;
    if (jget_array(obj, key, parent, &arr, err) < 0)
        return -1;
    if (arr == NULL)
        return 0;
    jpath_key(p, parent, key);
    size_t i;
    json_t *v;
    str_list_free(out);
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return jtype_error(jpath_idx(ip, p, i), "string", err);
        if (str_list_push(out, json_string_value(v)) < 0)
            return cerr_set(err, 0, "out of memory");
    }
    if (out->v == NULL && str_list_push(out, NULL) < 0)
        return cerr_set(err, 0, "out of memory");
    return 0;
}

int jget_str_map(json_t *obj, const char *key, const char *parent, struct kv_list *out, cerr_t *err)
{
    char p[JPATH_MAX], kp[JPATH_MAX];
    json_t *m;
    if (jget_object(obj, key, parent, &m, err) < 0)
        return -1;
    if (m == NULL)
        return 0;
    jpath_key(p, parent, key);
    const char *k;
    json_t *v;
    size_t n = json_object_size(m);
    out->v = calloc(n ? n : 1, sizeof(*out->v));
    if (out->v == NULL)
        return cerr_set(err, 0, "out of memory");
    json_object_foreach(m, k, v)
    {
        if (!json_is_string(v))
            return jtype_error(jpath_key(kp, p, k), "string", err);
        out->v[out->n].key = strdup(k);
        out->v[out->n].value = strdup(json_string_value(v));
        out->n++;
    }
    return 0;
}
