/* bx_hold_view: one event's seats as the hold worker sees them: rows in layout order,
 * each seat's state and tier, lookup by seat id, the orphan-seat test and best-available
 * selection. A cache only: the database decides every change (conditional UPDATEs), and a
 * view that may be stale is reloaded. Pure memory, no I/O; one view belongs to one thread.
 * Strings passed in are copied; strings returned are borrowed from the view. */
#ifndef BX_HOLD_VIEW_H
#define BX_HOLD_VIEW_H

#include "bx_err.h"

typedef enum {
    BX_SEAT_AVAILABLE = 0,
    BX_SEAT_HELD,
    BX_SEAT_SOLD,
    BX_SEAT_BLOCKED,
} bx_seat_state_t;

typedef struct bx_hold_view bx_hold_view_t;

/* A new empty view. NULL when out of memory. */
bx_hold_view_t *bx_hold_view_new(void);

/* Frees the view; *self_p becomes NULL. Safe on NULL. */
void bx_hold_view_destroy(bx_hold_view_t **self_p);

/* Adds the next seat in layout order (seats of one row must come in their order within
 * the row; rows are ordered by their first seat). row_key identifies the row (section
 * and row label). BX_EINVAL for a bad id or state, BX_ENOMEM. */
bx_err_t bx_hold_view_add(bx_hold_view_t *self, const char *seat_id, const char *label,
                          const char *row_key, const char *tier_id, const char *state);

/* Ends loading: builds the id index. Must be called before any lookup. */
bx_err_t bx_hold_view_seal(bx_hold_view_t *self);

/* Number of seats. */
int bx_hold_view_size(const bx_hold_view_t *self);

/* Index of the seat with id, or -1. */
int bx_hold_view_find(const bx_hold_view_t *self, const char *seat_id);

/* Seat idx's state, label, id and tier id (0 <= idx < size). */
bx_seat_state_t bx_hold_view_state(const bx_hold_view_t *self, int idx);
const char *bx_hold_view_label(const bx_hold_view_t *self, int idx);
const char *bx_hold_view_id(const bx_hold_view_t *self, int idx);
const char *bx_hold_view_tier(const bx_hold_view_t *self, int idx);

/* Sets seat idx's state. */
void bx_hold_view_set(bx_hold_view_t *self, int idx, bx_seat_state_t state);

/* Parses "available", "held", "sold", "blocked". -1 for anything else. */
int bx_hold_view_state_of(const char *text);

/* The orphan-seat rule: would taking the n seats idx (all available) leave a single
 * available seat with no available neighbour in its row (between taken seats, or between
 * a taken seat and the row's end) that had one before? Returns 1 and the index of such a
 * seat in *orphan, else 0. */
int bx_hold_view_strands(const bx_hold_view_t *self, const int *idx, int n, int *orphan);

/* The orphan-seat rule when seats are given back (a cart removes them): would making the n
 * seats idx (held by the caller) available leave one of them as a single available seat
 * with no available neighbour in its row (between taken seats, or between a taken seat and
 * the row's end)? Rows of one seat never count. Returns 1 and that seat's index in
 * *orphan, else 0. */
int bx_hold_view_strands_free(const bx_hold_view_t *self, const int *idx, int n, int *orphan);

/* Best available: picks n available seats of tier_id into out (n entries), best rows
 * first (layout order) and nearest the row's centre. together: all n side by side in one
 * row. Without together, a side-by-side block is still preferred, then the best single
 * seats. With orphan_rule, no choice strands a seat. Returns 1 when n seats were found. */
int bx_hold_view_best(const bx_hold_view_t *self, const char *tier_id, int n, int together,
                      int orphan_rule, int *out);

#endif
