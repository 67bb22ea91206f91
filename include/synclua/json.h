/*
** synclua/json.h -- libsynclua's JSON, as serde_json reads and writes it
** (spacedrive-compat.md sections 0 and 10), and one event as the bytes of
** an export format: what synclua's exporters and its protocol are made of.
*/
#ifndef SYNCLUA_JSON_H
#define SYNCLUA_JSON_H

#include <synclua/synclua.h>

/* ------------------------------------------------------------- json text */

typedef enum sl_json_kind {
  SL_JSON_NULL, SL_JSON_FALSE, SL_JSON_TRUE, SL_JSON_INTEGER,
  SL_JSON_FLOAT, SL_JSON_STRING, SL_JSON_ARRAY, SL_JSON_OBJECT,
  SL_JSON_UNSIGNED            /* an integer above INT64_MAX (serde's u64) */
} sl_json_kind;

/*
** A parsed JSON value. A tree returned by sl_json_parse is owned by the
** caller and freed whole with sl_json_free. Objects keep their members in
** input order (keys[i] names items[i]); writers sort them.
*/
typedef struct sl_json sl_json;
struct sl_json {
  sl_json_kind kind;          /* which member below is meaningful           */
  int64_t      integer;       /* SL_JSON_INTEGER                            */
  double       number;        /* SL_JSON_FLOAT                              */
  char        *string;        /* SL_JSON_STRING (may hold NUL bytes)        */
  size_t       length;        /* string bytes, or array/object item count   */
  sl_json    **items;         /* array elements or object values            */
  char       **keys;          /* object keys (NUL-terminated)               */
  size_t      *key_lengths;   /* object key lengths                         */
  uint64_t     uinteger;      /* SL_JSON_UNSIGNED                           */
};

/* Parse one JSON document (RFC 8259) from text[0..len). Numbers are typed
** as serde_json types them: an integer that fits int64 is SL_JSON_INTEGER,
** a larger one up to UINT64_MAX SL_JSON_UNSIGNED, and everything else
** (a fraction, an exponent, "-0", an integer beyond those ranges)
** SL_JSON_FLOAT, read correctly rounded (the nearest double). On failure
** returns SL_INVALID and writes "<reason> at line L column C" into err. */
int sl_json_parse(const char *text, size_t len, sl_json **out,
                  char *err, size_t errsz);

/*
** Parse as Spacedrive's code reads JSON text it did not write itself
** (spacedrive-compat.md 10.2): serde_json 1.0.145 without float_roundtrip,
** whose floats are not correctly rounded -- the first 19 or 20 significant
** digits as a u64, then one multiplication or division by a power of ten
** -- read `reads` times: each read after the first is of the text serde
** writes for the value the previous one gave (parse, to_string, parse
** again, as the CLI reads a row and then the daemon's reply). Integers and
** everything but floats come out as sl_json_parse gives them; a number
** the first read takes to infinity is "number out of range", as in serde
** (1.7976931348623158e308 is; a later read that would be keeps the value
** before it, where Spacedrive's CLI would refuse the whole reply).
** It refuses (SL_INVALID) exactly what serde_json's from_str refuses, and
** what Spacedrive therefore reads as None: text that is not JSON, empty
** text, trailing text after the value, NaN and Infinity, leading zeros
** (01), a lone surrogate escape, a raw control character in a string, a
** number out of f64 range (1e400), and nesting of 128 levels or more
** (serde's recursion limit of 128: 127 nested values are read).
** reads <= 0 is sl_json_parse. SL_JSON_READS_EVENTS and
** SL_JSON_READS_PROTOCOL are the counts of Spacedrive's two paths.
*/
#define SL_JSON_READS_EVENTS   2    /* sd sync events: the row, the reply  */
#define SL_JSON_READS_PROTOCOL 1    /* EventLogResponse: the row           */
int sl_json_parse_serde(const char *text, size_t len, int reads,
                        sl_json **out, char *err, size_t errsz);
void sl_json_free(sl_json *v);

/* Building a tree by hand (the binding builds one from a Lua value, so
** that its bytes come from sl_json_write too). sl_json_new: a node of
** that kind, its value fields zero (set integer, uinteger or number
** directly), NULL without memory; sl_json_new_string: a string node
** holding a copy of s[0..len). sl_json_add appends item to an array (key
** NULL) or an object (a copy of key[0..klen)); the container then owns
** item, and frees it even on failure. SL_OK, SL_MISUSE, or SL_NOMEM. */
sl_json *sl_json_new(sl_json_kind kind);
sl_json *sl_json_new_string(const char *s, size_t len);
int sl_json_add(sl_json *container, const char *key, size_t klen,
                sl_json *item);

/* serde_json's bytes: a string with quotes, escaping only '"', '\\' and
** control characters (\b \f \n \r \t, else \u00xx lowercase); '/' and
** non-ASCII pass through. The output is always valid UTF-8: each maximal
** ill-formed subpart of the input (a byte that cannot start a character,
** or a sequence cut short) is written as U+FFFD, as Rust's
** String::from_utf8_lossy reads it: "a\xffb" -> "a\xef\xbf\xbdb". */
void sl_json_write_string(sl_buf *b, const char *s, size_t len);

/* serde_json's f64: the shortest text that reads back to the same double,
** "100.0" for integral values, exponent forms as serde's ryu writes them.
** Non-finite values write "null", as serde_json does. */
void sl_json_write_double(sl_buf *b, double d);

/* serde_json's integers (itoa): decimal digits, '-' before a negative.
** Every JSON writer of the project writes its integers through these. */
void sl_json_write_int(sl_buf *b, int64_t i);
void sl_json_write_uint(sl_buf *b, uint64_t u);

/* Write a tree: compact (indent < 0) or pretty as serde's to_string_pretty
** with the value starting at nesting `indent` (0 for a top-level value).
** Object keys are written in byte-wise sorted order when sort_keys != 0. */
void sl_json_write(sl_buf *b, const sl_json *v, int indent, int sort_keys);

/*
** JSON text as serde_json writes it back once Spacedrive has read it
** `reads` times (sl_json_parse_serde; 0 for an exact read, as we store
** details): compact (indent < 0) or pretty as to_string_pretty from
** nesting `indent`, object keys sorted (serde's BTreeMap), appended to
** out. Text already in the form serde would write back -- each object's
** keys strictly increasing, integers of at most 18 digits, strings of
** printable ASCII without escapes, no floats: what Spacedrive and synclua
** store -- is re-indented in one pass as it is scanned; anything else is
** parsed and written (sl_json_write). SL_OK; SL_INVALID for text the read
** refuses (message in err); SL_NOMEM. On failure nothing is appended.
*/
int sl_json_reformat(sl_buf *out, const char *text, size_t len, int indent,
                     int reads, char *err, size_t errsz);

/* sl_json_reformat compact with an exact read: `details` as we store it.
** SL_OK, or SL_INVALID with a message in err. */
int sl_json_canonicalize(const char *text, size_t len, sl_buf *out,
                         char *err, size_t errsz);

/* -------------------------------------------------------------- rendering */

/*
** One event as the bytes of an export format: Spacedrive's `sd sync events`
** output (spacedrive-compat.md 1.4-1.6) and synclua's NDJSON and CSV. The
** exporters (the Lua modules in exporters/) write the framing around it:
** brackets, headers, separators.
**
** A row is read back as Spacedrive reads it: the timestamp is written anew
** from the instant (chrono's AutoSi fraction; "Z" in JSON, "+00:00" in
** SQL), UUID columns lowercase and hyphenated, details parsed and written
** by serde's rules (sorted keys, shortest floats, serde's escaping). So a
** row another program wrote (a "Z", an offset, a short fraction, unsorted
** details) exports as Spacedrive would export the same event. What
** Spacedrive could not read at all is written as stored rather than
** dropped: a timestamp that does not parse (has_instant 0), an unknown
** type name. CSV writes the row as read: the timestamp, details and
** model_types as their stored text, the counts as stored (a negative one
** too), ids lowercase and hyphenated, and what Spacedrive reads as None (an
** id that is no UUID, a count that is no integer) empty. An event not read
** from a store (has_id 0) has no id: null in JSON, an empty CSV field; a
** stored row's id 0 is 0.
**
** details are an Option<serde_json::Value>, as Spacedrive reads the row
** (spacedrive-compat.md 10.1, 10.4). Text serde_json refuses is None: not
** JSON, empty text, trailing text after the value, NaN or Infinity, a
** leading zero (01), a lone surrogate escape ("\ud800"), a raw control
** character inside a string, a number out of f64 range (1e400), nesting of
** 128 levels or more (serde's recursion limit; 127 is read). A stored JSON
** null is Some(Null) when the row is read, and None after the daemon hop:
** so with SL_JSON_READS_EVENTS (reads >= 2) it is None, and with
** SL_JSON_READS_PROTOCOL (one read) it stays a null value. None is written
** "details": null in the default JSON and NDJSON, the key omitted in the
** --with-device JSON and NDJSON, NULL in SQL; a kept null is "details":
** null in every JSON format and 'null' in SQL. CSV writes the stored text
** unchanged, Markdown has no details column. Where synclua differs: details nested 124 to 127 levels
** deep are exported, where Spacedrive's CLI fails on the whole reply
** ("recursion limit exceeded" reading the daemon's response, whose
** envelope adds levels).
**
** Whatever the event holds, the JSON formats are valid UTF-8 JSON: a NULL
** text field is written "" where Spacedrive's field is a string (null
** where it is an option), and an ill-formed UTF-8 sequence as U+FFFD. A
** row read from a cursor comes already read leniently (see sl_bad_rows):
** a NULL summary is "", non-integer counts are absent, text is UTF-8.
*/
typedef enum sl_render_format {
  SL_RENDER_JSON = 0,      /* an element of the default JSON export: the 9
                              keys sorted, absent ones null, pretty at
                              nesting 1 ("{\n    ...\n  }"), without the
                              array's indent or separators              */
  SL_RENDER_JSON_DEVICE,   /* an element of the --with-device export: the
                              struct's declaration order, absent optional
                              fields omitted; same layout               */
  SL_RENDER_SQL,           /* "INSERT INTO sync_event_log (...) VALUES
                              (...);\n", the id left out                */
  SL_RENDER_MARKDOWN,      /* "| 2025-12-03 10:15:00 | StateTransition |
                              Info | summary |\n"; '|' in a cell is "\|",
                              a line break "<br>"                       */
  SL_RENDER_NDJSON,        /* the default element compact, then "\n"   */
  SL_RENDER_NDJSON_DEVICE, /* the --with-device fields compact with keys
                              sorted (as EventLogResponse carries an
                              event), then "\n"                         */
  SL_RENDER_CSV,           /* the 13 columns as read, RFC 4180 (NULL
                              empty, "" an empty string), then "\r\n"   */
  SL_RENDER_FORMAT_COUNT
} sl_render_format;

/* Append the bytes of one event in `format` to b. Returns SL_OK; SL_NOMEM
** when memory ran out (b->oom is set and b holds what it held before the
** call: never half an event); SL_MISUSE for a NULL argument or an unknown
** format. Reads ev only; the caller keeps ownership of everything. */
int sl_render_event(sl_buf *b, const sl_event *ev, int format);

/* sl_render_event with `details` read `reads` times as serde_json reads it
** (sl_json_parse_serde; markdown and csv have no details to read).
** sl_render_event is SL_JSON_READS_EVENTS, what `sd sync events` prints
** after reading the row and then the daemon's reply; a server answering
** EventLogRequest sends SL_RENDER_NDJSON_DEVICE (without the newline)
** read SL_JSON_READS_PROTOCOL times, as Spacedrive's handler reads the
** row once. The count also decides a stored JSON null in details: None
** (omitted with --with-device, NULL in SQL) when reads >= 2, a null value
** kept when reads is 1 or less. */
int sl_render_event_reads(sl_buf *b, const sl_event *ev, int format,
                          int reads);

/* One row of the timeline's text format (`synclua timeline`'s default):
** "! " for a row in a causality violation (flagged) else two spaces; the
** adjusted time as "2025-12-03 10:15:00.123" (UTC, to the millisecond),
** or the stored text when the time does not parse; two spaces, the label
** padded to `width` bytes; the severity padded to 7 and the event type to
** 26 ("?" for none); the summary with a line feed as a space and every
** other control character as "\xNN"; and, when the adjusted time is not
** the device's own, "  [device clock <its time>]"; then "\n". Returns as
** sl_render_event does. */
int sl_render_timeline_text(sl_buf *b, const sl_event *ev, int64_t adjusted,
                            const char *label, size_t label_len,
                            size_t width, int flagged);

/* "json", "json_device", "sql", "markdown", "ndjson", "ndjson_device",
** "csv"; NULL for an out-of-range value. */
const char *sl_render_format_name(int format);

/* The CSV header record: the 13 column names in table order, "\r\n". */
const char *sl_render_csv_header(void);

#endif
