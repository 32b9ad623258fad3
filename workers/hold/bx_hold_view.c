/* bx_hold_view: an event's seats in memory for the hold worker: rows in layout order,
 * states, an id index, the orphan-seat test and best-available selection. */
#include "bx_hold_view.h"

#include <stdlib.h>
#include <string.h>

#include "bx_util.h"

#define S_LABEL_MAX  64  /* event_seats.label is VARCHAR(64) */
#define S_ROWKEY_MAX 160 /* section (32) + separator + row (16), with room */

typedef struct {
    char id[BX_UUID_LEN + 1];    /* seat id (layout seat) */
    char label[S_LABEL_MAX + 1]; /* seat label */
    int row;                     /* index of its row */
    int tier;                    /* index of its tier in tiers */
    unsigned char state;         /* bx_seat_state_t */
} s_seat_t;

typedef struct {
    int first; /* index of its first seat */
    int n;     /* seats in the row */
} s_row_t;

struct bx_hold_view {
    s_seat_t *seats;                /* every seat, rows contiguous, in layout order */
    int nseats, capseats;           /* used and allocated */
    s_row_t *rows;                  /* rows in layout order */
    int nrows, caprows;             /* used and allocated */
    char (*tiers)[BX_UUID_LEN + 1]; /* distinct tier ids */
    int ntiers, captiers;           /* used and allocated */
    int *by_id;                     /* seat indices sorted by id (after seal) */
    char last_row[S_ROWKEY_MAX];    /* row key of the last seat added */
};

static const char *const s_states[] = {"available", "held", "sold", "blocked"};

bx_hold_view_t *bx_hold_view_new(void)
{
    return calloc(1, sizeof(bx_hold_view_t));
}

void bx_hold_view_destroy(bx_hold_view_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bx_hold_view_t *self = *self_p;
    free(self->seats);
    free(self->rows);
    free(self->tiers);
    free(self->by_id);
    free(self);
    *self_p = NULL;
}

int bx_hold_view_state_of(const char *text)
{
    for (int i = 0; text && i < 4; i++)
        if (!strcmp(text, s_states[i]))
            return i;
    return -1;
}

/* Grows *p (n used, *cap allocated, size bytes each) to hold one more. */
static int s_grow(void **p, int n, int *cap, size_t size)
{
    if (n < *cap)
        return 1;
    int want = *cap ? *cap * 2 : 64;
    void *grown = realloc(*p, (size_t)want * size);
    if (!grown)
        return 0;
    *p = grown;
    *cap = want;
    return 1;
}

static int s_tier_index(const bx_hold_view_t *self, const char *tier_id)
{
    for (int i = 0; tier_id && i < self->ntiers; i++)
        if (!strcmp(self->tiers[i], tier_id))
            return i;
    return -1;
}

static int s_tier_add(bx_hold_view_t *self, const char *tier_id)
{
    int t = s_tier_index(self, tier_id);
    if (t >= 0)
        return t;
    if (!s_grow((void **)&self->tiers, self->ntiers, &self->captiers, sizeof *self->tiers))
        return -1;
    bx_strlcpy(self->tiers[self->ntiers], tier_id, sizeof self->tiers[0]);
    return self->ntiers++;
}

bx_err_t bx_hold_view_add(bx_hold_view_t *self, const char *seat_id, const char *label,
                          const char *row_key, const char *tier_id, const char *state)
{
    int st = bx_hold_view_state_of(state);
    if (!bx_uuid_valid(seat_id) || !bx_uuid_valid(tier_id) || st < 0 || !label || !row_key)
        return BX_EINVAL;
    int tier = s_tier_add(self, tier_id);
    if (tier < 0 ||
        !s_grow((void **)&self->seats, self->nseats, &self->capseats, sizeof *self->seats))
        return BX_ENOMEM;
    if (!self->nrows || strcmp(self->last_row, row_key)) {
        if (!s_grow((void **)&self->rows, self->nrows, &self->caprows, sizeof *self->rows))
            return BX_ENOMEM;
        self->rows[self->nrows++] = (s_row_t){.first = self->nseats, .n = 0};
        bx_strlcpy(self->last_row, row_key, sizeof self->last_row);
    }
    s_seat_t *s = &self->seats[self->nseats++];
    bx_strlcpy(s->id, seat_id, sizeof s->id);
    bx_strlcpy(s->label, label, sizeof s->label);
    s->row = self->nrows - 1;
    s->tier = tier;
    s->state = (unsigned char)st;
    self->rows[self->nrows - 1].n++;
    return BX_OK;
}

static int s_by_id_cmp(const void *a, const void *b, void *arg)
{
    const s_seat_t *seats = arg;
    return strcmp(seats[*(const int *)a].id, seats[*(const int *)b].id);
}

bx_err_t bx_hold_view_seal(bx_hold_view_t *self)
{
    free(self->by_id);
    self->by_id = malloc((size_t)(self->nseats ? self->nseats : 1) * sizeof *self->by_id);
    if (!self->by_id)
        return BX_ENOMEM;
    for (int i = 0; i < self->nseats; i++) {
        for (char *p = self->seats[i].id; *p; p++) /* ids compare in lower case */
            *p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
        self->by_id[i] = i;
    }
    qsort_r(self->by_id, (size_t)self->nseats, sizeof *self->by_id, s_by_id_cmp, self->seats);
    return BX_OK;
}

int bx_hold_view_size(const bx_hold_view_t *self)
{
    return self->nseats;
}

int bx_hold_view_find(const bx_hold_view_t *self, const char *seat_id)
{
    char id[BX_UUID_LEN + 1];
    if (!self->by_id || !bx_uuid_valid(seat_id))
        return -1;
    for (int i = 0; i <= BX_UUID_LEN; i++)
        id[i] = (char)(seat_id[i] >= 'A' && seat_id[i] <= 'F' ? seat_id[i] + 32 : seat_id[i]);
    int lo = 0, hi = self->nseats - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(self->seats[self->by_id[mid]].id, id);
        if (!c)
            return self->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

bx_seat_state_t bx_hold_view_state(const bx_hold_view_t *self, int idx)
{
    return (bx_seat_state_t)self->seats[idx].state;
}

const char *bx_hold_view_label(const bx_hold_view_t *self, int idx)
{
    return self->seats[idx].label;
}

const char *bx_hold_view_id(const bx_hold_view_t *self, int idx)
{
    return self->seats[idx].id;
}

const char *bx_hold_view_tier(const bx_hold_view_t *self, int idx)
{
    return self->tiers[self->seats[idx].tier];
}

void bx_hold_view_set(bx_hold_view_t *self, int idx, bx_seat_state_t state)
{
    self->seats[idx].state = (unsigned char)state;
}

/* ---- orphan seats ---- */

static int s_in(const int *idx, int n, int i)
{
    for (int k = 0; k < n; k++)
        if (idx[k] == i)
            return 1;
    return 0;
}

/* Seat i is taken once idx[0..n) are: not available, or among them. */
static int s_taken(const bx_hold_view_t *self, const int *idx, int n, int i)
{
    return self->seats[i].state != BX_SEAT_AVAILABLE || s_in(idx, n, i);
}

int bx_hold_view_strands(const bx_hold_view_t *self, const int *idx, int n, int *orphan)
{
    for (int k = 0; k < n; k++) {
        const s_row_t *row = &self->rows[self->seats[idx[k]].row];
        int lo = row->first, hi = row->first + row->n - 1;
        for (int j = idx[k] - 1; j <= idx[k] + 1; j += 2) {
            if (j < lo || j > hi || s_taken(self, idx, n, j))
                continue; /* j is an available seat next to the new hold */
            int left = j == lo || s_taken(self, idx, n, j - 1);
            int right = j == hi || s_taken(self, idx, n, j + 1);
            if (left && right) {
                *orphan = j;
                return 1;
            }
        }
    }
    return 0;
}

/* Seat i is available once idx[0..n) are given back. */
static int s_free_after(const bx_hold_view_t *self, const int *idx, int n, int i)
{
    return self->seats[i].state == BX_SEAT_AVAILABLE || s_in(idx, n, i);
}

int bx_hold_view_strands_free(const bx_hold_view_t *self, const int *idx, int n, int *orphan)
{
    for (int k = 0; k < n; k++) {
        const s_row_t *row = &self->rows[self->seats[idx[k]].row];
        int lo = row->first, hi = row->first + row->n - 1, j = idx[k];
        if (row->n < 2)
            continue;
        int left = j > lo && s_free_after(self, idx, n, j - 1);
        int right = j < hi && s_free_after(self, idx, n, j + 1);
        if (!left && !right) {
            *orphan = j;
            return 1;
        }
    }
    return 0;
}

/* ---- best available ---- */

/* k side-by-side seats from start, all available, of tier t and not already in sel. */
static int s_block_free(const bx_hold_view_t *self, int start, int k, int t, const int *sel,
                        int nsel)
{
    for (int i = start; i < start + k; i++)
        if (self->seats[i].state != BX_SEAT_AVAILABLE || self->seats[i].tier != t ||
            s_in(sel, nsel, i))
            return 0;
    return 1;
}

/* The best block of k side-by-side seats in row r (nearest the row's centre) that, taken
 * with sel[0..nsel), strands no seat when orphan_rule is set. Appends it to sel. */
static int s_row_block(const bx_hold_view_t *self, int r, int t, int k, int orphan_rule, int *sel,
                       int nsel)
{
    const s_row_t *row = &self->rows[r];
    int best = -1, orphan;
    long bestd = 0;
    for (int s = row->first; s + k <= row->first + row->n; s++) {
        if (!s_block_free(self, s, k, t, sel, nsel))
            continue;
        for (int i = 0; i < k; i++)
            sel[nsel + i] = s + i;
        if (orphan_rule && bx_hold_view_strands(self, sel, nsel + k, &orphan))
            continue;
        long d = labs(2L * (s - row->first) + k - row->n); /* twice the offset from centre */
        if (best < 0 || d < bestd) {
            best = s;
            bestd = d;
        }
    }
    for (int i = 0; best >= 0 && i < k; i++)
        sel[nsel + i] = best + i;
    return best >= 0;
}

/* The best rows' seats when they need not sit together: row by row, the largest block the
 * row still offers, then the next, so that seats stay as close as they can. */
static int s_best_spread(const bx_hold_view_t *self, int t, int n, int orphan_rule, int *out)
{
    int got = 0;
    for (int r = 0; r < self->nrows && got < n; r++) {
        int found = 1;
        while (found && got < n) {
            found = 0;
            int k = n - got < self->rows[r].n ? n - got : self->rows[r].n;
            for (; k >= 1 && !found; k--)
                if (s_row_block(self, r, t, k, orphan_rule, out, got)) {
                    got += k;
                    found = 1;
                }
        }
    }
    return got == n;
}

int bx_hold_view_best(const bx_hold_view_t *self, const char *tier_id, int n, int together,
                      int orphan_rule, int *out)
{
    int t = s_tier_index(self, tier_id);
    if (t < 0 || n < 1 || n > 100)
        return 0;
    for (int r = 0; r < self->nrows; r++) /* side by side in the best row that has room */
        if (s_row_block(self, r, t, n, orphan_rule, out, 0))
            return 1;
    return !together && s_best_spread(self, t, n, orphan_rule, out);
}
