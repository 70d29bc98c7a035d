# The runner's output filter (POSIX awk: mawk, gawk, busybox). It replaces the value of every variable
# named in NIGHTSHIFT_SECRET_VARS (space-separated names; the values are read from ENVIRON, never from
# argv, where ps would show them) by [redacted], as makeRedactor (lib/redact.ts) does: literal matches
# (index/substr, never a regex), values of 4 characters or more, each also in its JSON-escaped form,
# longest first. It is line-based: each line goes out (flushed) as it ends; a value that spans lines is
# only caught in its JSON-escaped form, and a last line without a newline gains one. run.sh passes it to
# awk as the program text.
function jsonEscape(s,    out, i, c) {
  out = ""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c in esc) out = out esc[c]
    else out = out c
  }
  return out
}
function add(v) {
  if (v in seen) return
  seen[v] = 1
  k++
  s[k] = v
}
BEGIN {
  esc["\\"] = "\\\\"
  esc["\""] = "\\\""
  for (i = 1; i < 32; i++) esc[sprintf("%c", i)] = sprintf("\\u%04x", i)
  esc[sprintf("%c", 8)] = "\\b"
  esc[sprintf("%c", 9)] = "\\t"
  esc[sprintf("%c", 10)] = "\\n"
  esc[sprintf("%c", 12)] = "\\f"
  esc[sprintf("%c", 13)] = "\\r"
  k = 0
  n = split(ENVIRON["NIGHTSHIFT_SECRET_VARS"], names, " ")
  for (i = 1; i <= n; i++) {
    v = ENVIRON[names[i]]
    if (length(v) < 4) continue
    add(v)
    add(jsonEscape(v))
  }
  for (i = 2; i <= k; i++) {
    v = s[i]
    for (j = i - 1; j > 0 && length(s[j]) < length(v); j--) s[j + 1] = s[j]
    s[j + 1] = v
  }
}
{
  line = $0
  for (i = 1; i <= k; i++) {
    if (index(line, s[i]) == 0) continue
    out = ""
    while ((p = index(line, s[i])) > 0) {
      out = out substr(line, 1, p - 1) "[redacted]"
      line = substr(line, p + length(s[i]))
    }
    line = out line
  }
  print line
  fflush()
}
