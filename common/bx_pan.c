/* bx_pan: card-number detection (rules in bx_pan.h). */
#include "bx_pan.h"

#include <stdio.h>
#include <string.h>

#define S_GROUPS_MAX 32 /* groups looked at in one separated run */

int bx_pan_luhn(const char *d, size_t len)
{
    int sum = 0;
    for (size_t i = 0; i < len; i++) {
        int v = d[len - 1 - i] - '0';
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return len > 0 && sum % 10 == 0;
}

static int s_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int s_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* 1 when the digit run s[b..e) belongs to a longer identifier: letters touch it, or a dash
 * joins it to letters or digits ("01a20b31-17cd-7554-8293-907505bd42a1": the digit groups of
 * a UUID are no card number). */
static int s_glued(const char *s, size_t n, size_t b, size_t e)
{
    int before = b > 0 && (s_alpha(s[b - 1]) ||
                           (b > 1 && s[b - 1] == '-' && (s_alpha(s[b - 2]) || s_digit(s[b - 2]))));
    int after = e < n && (s_alpha(s[e]) || (e + 1 < n && s[e] == '-' && s_alpha(s[e + 1])));
    return before || after;
}

/* Groups g[first..last] (each start/len in s) form a card number. */
static int s_window(const char *s, const size_t *start, const size_t *len, int first, int last)
{
    char d[20];
    size_t n = 0;
    for (int i = first; i <= last; i++) {
        if (n + len[i] > 19)
            return 0;
        memcpy(d + n, s + start[i], len[i]);
        n += len[i];
    }
    return n >= 13 && bx_pan_luhn(d, n);
}

/* One run of digit groups joined by single separators: ngroups groups. A group of 13-19
 * digits on its own, or consecutive groups of 3-6 digits. */
static int s_run(const char *s, const size_t *start, const size_t *len, int ngroups)
{
    for (int i = 0; i < ngroups; i++)
        if (len[i] >= 13 && len[i] <= 19 && bx_pan_luhn(s + start[i], len[i]))
            return 1;
    for (int i = 0; i < ngroups; i++)
        for (int j = i + 1; j < ngroups; j++) {
            int ok = 1;
            for (int k = i; k <= j && ok; k++)
                ok = len[k] >= 3 && len[k] <= 6;
            if (!ok)
                break;
            if (s_window(s, start, len, i, j))
                return 1;
        }
    return 0;
}

int bx_pan_in_text(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (!s_digit(s[i])) {
            i++;
            continue;
        }
        size_t start[S_GROUPS_MAX], len[S_GROUPS_MAX], first = i;
        int g = 0, plus = i > 0 && s[i - 1] == '+';
        for (;;) {
            size_t b = i;
            while (i < n && s_digit(s[i]))
                i++;
            if (g < S_GROUPS_MAX) {
                start[g] = b;
                len[g++] = i - b;
            }
            if (i + 1 < n && (s[i] == ' ' || s[i] == '-') && s_digit(s[i + 1]))
                i++;
            else
                break;
        }
        /* "+" and up to 15 digits is an E.164 phone number, never a card */
        if (plus && g == 1 && len[0] <= 15)
            continue;
        if (s_glued(s, n, first, i))
            continue;
        if (s_run(s, start, len, g))
            return 1;
    }
    return 0;
}

/* Appends "/<token>" (RFC 6901 escaped) to ptr of length at. */
static void s_push(char *ptr, size_t cap, size_t at, const char *token)
{
    size_t o = at;
    if (!ptr || at + 2 >= cap)
        return;
    ptr[o++] = '/';
    for (const char *c = token; *c && o + 2 < cap; c++) {
        if (*c == '~' || *c == '/') {
            ptr[o++] = '~';
            ptr[o++] = *c == '~' ? '0' : '1';
        } else {
            ptr[o++] = *c;
        }
    }
    ptr[o < cap ? o : cap - 1] = '\0';
}

static int s_find(const json_t *j, char *ptr, size_t cap, size_t at, int depth)
{
    char buf[32];
    const char *key;
    json_t *v;
    size_t i;
    if (depth > 64)
        return 0;
    if (json_is_string(j))
        return bx_pan_in_text(json_string_value(j), json_string_length(j));
    if (json_is_integer(j)) {
        int n = snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(j));
        return n > 0 && bx_pan_in_text(buf, (size_t)n);
    }
    if (json_is_real(j) && json_real_value(j) >= 1e12 && json_real_value(j) < 1e19) {
        int n = snprintf(buf, sizeof buf, "%.0f", json_real_value(j));
        return n > 0 && bx_pan_in_text(buf, (size_t)n);
    }
    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v)
        {
            s_push(ptr, cap, at, key);
            if (bx_pan_in_text(key, strlen(key)) ||
                s_find(v, ptr, cap, ptr ? strlen(ptr) : 0, depth + 1))
                return 1;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            snprintf(buf, sizeof buf, "%zu", i);
            s_push(ptr, cap, at, buf);
            if (s_find(v, ptr, cap, ptr ? strlen(ptr) : 0, depth + 1))
                return 1;
        }
    }
    return 0;
}

int bx_pan_find(const json_t *json, char *ptr, size_t cap)
{
    if (ptr && cap)
        ptr[0] = '\0';
    int found = s_find(json, cap ? ptr : NULL, cap, 0, 0);
    if (!found && ptr && cap)
        ptr[0] = '\0';
    return found;
}
