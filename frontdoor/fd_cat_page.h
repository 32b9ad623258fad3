/* fd_cat_page: one page of a keyset-paged list answered the catalog way (fd_catalog's
 * cursors and links), for list queries whose rows are (document, cursor a, cursor b). */
#ifndef FD_CAT_PAGE_H
#define FD_CAT_PAGE_H

#include "fd.h"

/* Runs the prepared query name with the n parameters p (the last being the page size,
 * max) and answers 200 with {data: the rows' documents, links for path with the query
 * keys kept (NULL-terminated), and a next cursor when the page is full}; answers the
 * database problem (fd_cat_fail) when the query fails. */
void fd_cat_page(fd_req_t *req, bx_pg_t *pg, const char *name, int n, const char *const *p,
                 long max, const char *path, const char *const *keys);

#endif
