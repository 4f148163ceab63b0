/*
 * mime-private.h: what smtp.c needs from mime.c beyond smtp.h. The
 * envelope (MAIL FROM, RCPT TO) carries bare addresses, which smtp.c takes
 * from the same parser that checks the headers' addresses, and both files
 * size their buffers by the same limits.
 */
#ifndef AG_MIME_PRIVATE_H
#define AG_MIME_PRIVATE_H

#include <stddef.h>

#define AG__ADDR_MAX  254 /* a bare address, local@domain */
#define AG__MSGID_MAX 250 /* a Message-ID with its angle brackets */

/* Checks addr as ag_mail_address does and finds its bare address
 * ("local@domain", without the display name or angle brackets) and that
 * address's domain. Returns 0 with *spec, *slen and *domain, *dlen pointing
 * into addr (borrowed, not NUL-terminated); or -EINVAL (addr NULL or
 * refused), the outputs then untouched. Any output may be NULL. */
int ag__mail_spec(const char *addr, const char **spec, size_t *slen,
                  const char **domain, size_t *dlen);

#endif
