/* fd_cat_page: a list page from a query of (document, cursor a, cursor b) rows. */
#include "fd_cat_page.h"

#include "fd_catalog.h"

void fd_cat_page(fd_req_t *req, bx_pg_t *pg, const char *name, int n, const char *const *p,
                 long max, const char *path, const char *const *keys)
{
    char next[FD_CAT_CURSOR_MAX + 1] = "";
    bx_err_t err = BX_OK;
    PGresult *res = bx_pg_query(pg, name, n, p, &err);
    if (!res) {
        fd_cat_fail(req, pg, err, NULL);
        return;
    }
    json_t *data = json_array();
    int rows = PQntuples(res);
    for (int i = 0; data && i < rows; i++)
        json_array_append_new(data, fd_cat_json(bx_pg_val(res, i, 0)));
    if (rows > 0 && rows == max)
        fd_cat_cursor_encode(bx_pg_val(res, rows - 1, 1), bx_pg_val(res, rows - 1, 2), next,
                             sizeof next);
    PQclear(res);
    fd_reply_json(req, 200, fd_document(data, fd_cat_links(req, path, keys, next[0] ? next : NULL)));
}
