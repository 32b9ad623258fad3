/* fd_xml: the XML representation of any JSON document the API returns (spec NFR 12). */
#ifndef FD_XML_H
#define FD_XML_H

#include <jansson.h>

/* Renders doc as XML: objects become elements named by their keys (invalid name
 * characters replaced by '_'), arrays repeat an <item> element, scalars become text, and
 * the root is <document>. Returns a new string (caller frees) or NULL. */
char *fd_xml_render(const json_t *doc);

#endif
