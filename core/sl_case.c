/*
** sl_case.c -- text lowercased as Rust's str::to_lowercase lowercases it,
** which is what Spacedrive matches `--since` units with and echoes back
** in "Unknown time unit: ..." (spacedrive-compat.md 10.5): so "weeK" with
** a KELVIN SIGN is "week", and "İ" is "i̇".
**
** Each character takes its Unicode lowercase mapping, from the C
** library's C.UTF-8 locale (a locale object of our own: the program's
** locale is never touched). Then the two rules that mapping cannot carry,
** as Rust applies them: U+0130 becomes two characters, "i" and U+0307;
** and a capital sigma that ends a word becomes the final form U+03C2. A
** word, for that rule, is judged on letters: its neighbours skipping
** combining diacritics (U+0300-U+036F) and the apostrophes, periods and
** colons Unicode lets stand inside a word -- the characters that occur
** around sigmas in practice. Bytes that are not UTF-8 are kept as they
** are.
*/
#include <locale.h>
#include <pthread.h>
#include <wctype.h>

#include "sli.h"

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void open_locale(void) {
  utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* The code point at s[*i] (advancing *i), or -1 for a byte that does not
** start a well-formed sequence (*i past that one byte). */
static long decode(const char *s, size_t n, size_t *i) {
  size_t k = sli_utf8_valid_prefix(s + *i, n - *i > 4 ? 4 : n - *i);
  const unsigned char *u = (const unsigned char *)s + *i;
  long cp;
  if (k == 0) {
    (*i)++;
    return -1;
  }
  if (u[0] < 0x80) k = 1, cp = u[0];
  else if (u[0] < 0xE0) k = 2, cp = (u[0] & 0x1F) << 6 | (u[1] & 0x3F);
  else if (u[0] < 0xF0)
    k = 3, cp = (long)(u[0] & 0x0F) << 12 | (u[1] & 0x3F) << 6 | (u[2] & 0x3F);
  else
    k = 4, cp = (long)(u[0] & 0x07) << 18 | (long)(u[1] & 0x3F) << 12 |
                (u[2] & 0x3F) << 6 | (u[3] & 0x3F);
  *i += k;
  return cp;
}

static void encode(sl_buf *b, long cp) {
  char u[4];
  size_t k;
  if (cp < 0x80) u[0] = (char)cp, k = 1;
  else if (cp < 0x800)
    u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), k = 2;
  else if (cp < 0x10000)
    u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
    u[2] = (char)(0x80 | (cp & 0x3F)), k = 3;
  else
    u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
    u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)),
    k = 4;
  sl_buf_append(b, u, k);
}

static int ignorable(long cp) {
  return (cp >= 0x300 && cp <= 0x36F) || cp == '\'' || cp == '.' ||
         cp == ':' || cp == 0xB7 || cp == 0x2018 || cp == 0x2019 ||
         cp == 0x2024 || cp == 0xAD;
}

static int cased(long cp) {
  return iswupper_l((wint_t)cp, utf8_locale) ||
         iswlower_l((wint_t)cp, utf8_locale);
}

/* Is a cased letter the first non-ignorable character of s[from..to),
** read forwards (dir 1) or backwards from `to` (dir -1)? */
static int cased_beside(const char *s, size_t from, size_t to, int dir) {
  size_t i = from;
  if (dir < 0) {
    /* Backwards: step to each sequence start. */
    while (to > from) {
      size_t start = to - 1;
      while (start > from && ((unsigned char)s[start] & 0xC0) == 0x80)
        start--;
      size_t at = start;
      long cp = decode(s, to, &at);
      if (cp < 0 || !ignorable(cp)) return cp >= 0 && cased(cp);
      to = start;
    }
    return 0;
  }
  while (i < to) {
    long cp = decode(s, to, &i);
    if (cp < 0 || !ignorable(cp)) return cp >= 0 && cased(cp);
  }
  return 0;
}

void sli_lowercase(sl_buf *b, const char *s, size_t n) {
  pthread_once(&utf8_once, open_locale);
  for (size_t i = 0; i < n;) {
    size_t start = i;
    long cp = decode(s, n, &i);
    if (cp < 0) {
      sl_buf_append(b, s + start, 1);
    } else if (cp == 0x130) {
      sl_buf_append(b, "i\xCC\x87", 3);
    } else if (cp == 0x3A3) {
      int final = cased_beside(s, 0, start, -1) && !cased_beside(s, i, n, 1);
      encode(b, final ? 0x3C2 : 0x3C3);
    } else if (cp < 0x80 || utf8_locale == (locale_t)0) {
      encode(b, cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
    } else {
      encode(b, (long)towlower_l((wint_t)cp, utf8_locale));
    }
  }
}
