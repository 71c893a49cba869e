// The native lane of the CSV analysis: tokenizes UTF-8 records, checks each value against the column's settled type
// and writes PostgreSQL binary COPY tuples, for the long middle stretch of a large file whose columns have settled.
// It accepts only what the TypeScript analysis would read the same way and stops before any other record, which the
// TypeScript path then reads, so the two always give the same rows. See src/ingest/native-lane.ts.
#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

enum Kind : int32_t { kBlank = 0, kText = 1, kInteger = 2, kNumber = 3, kDate = 4 };
enum Stop : int32_t { kNeedMore = 0, kUnhandled = 1 };

enum TokenKind { kDay, kMonth, kYear4, kYear2, kMonthAbbr, kMonthName, kLiteral };
struct Token {
  TokenKind kind;
  char literal;
};
using DateFormat = std::vector<Token>;

struct Column {
  int32_t kind = kBlank;
  DateFormat value_format;             // the format the early load's schema converts with
  std::vector<DateFormat> check_formats;  // every format the column still fits: each value must fit all of them
};

struct Cell {
  size_t start;
  size_t end;
  bool quoted;
  bool escaped;  // contains a doubled quote
};

// A writer into memory sized beforehand for the worst case (see run_lane), so writes need no bounds checks.
struct Output {
  uint8_t* data = nullptr;
  size_t length = 0;
  size_t size() const { return length; }
  void truncate(size_t to) { length = to; }
  void u8(uint8_t v) { data[length++] = v; }
  void i16(int32_t v) {
    data[length++] = static_cast<uint8_t>((v >> 8) & 0xff);
    data[length++] = static_cast<uint8_t>(v & 0xff);
  }
  void i32(int64_t v) {
    put_i32_at(length, v);
    length += 4;
  }
  void i64(int64_t v) {
    uint64_t u = static_cast<uint64_t>(v);
    for (int shift = 56; shift >= 0; shift -= 8) data[length++] = static_cast<uint8_t>((u >> shift) & 0xff);
  }
  void append(const uint8_t* from, size_t count) {
    std::memcpy(data + length, from, count);
    length += count;
  }
  void put_i32_at(size_t at, int64_t v) {
    uint32_t u = static_cast<uint32_t>(v);
    data[at] = static_cast<uint8_t>(u >> 24);
    data[at + 1] = static_cast<uint8_t>((u >> 16) & 0xff);
    data[at + 2] = static_cast<uint8_t>((u >> 8) & 0xff);
    data[at + 3] = static_cast<uint8_t>(u & 0xff);
  }
};

inline bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
inline bool is_ascii_space(uint8_t c) { return c == ' ' || (c >= 9 && c <= 13); }
inline bool is_letter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// ---- dates: the strftime subset of src/ingest/dates.ts, where every token is followed by a literal or the end ----

bool compile_format(const std::string& format, DateFormat& out) {
  out.clear();
  for (size_t i = 0; i < format.size(); i++) {
    if (format[i] != '%') {
      out.push_back({kLiteral, format[i]});
      continue;
    }
    if (i + 1 >= format.size()) return false;
    switch (format[++i]) {
      case 'd': out.push_back({kDay, 0}); break;
      case 'm': out.push_back({kMonth, 0}); break;
      case 'Y': out.push_back({kYear4, 0}); break;
      case 'y': out.push_back({kYear2, 0}); break;
      case 'b': out.push_back({kMonthAbbr, 0}); break;
      case 'B': out.push_back({kMonthName, 0}); break;
      default: return false;
    }
  }
  // Two tokens in a row would need the regular expression's backtracking, which this matcher does not do.
  // A day or month of one or two digits followed by a digit would need it as well.
  for (size_t i = 1; i < out.size(); i++) {
    if (out[i].kind != kLiteral && out[i - 1].kind != kLiteral) return false;
    bool flexible = out[i - 1].kind == kDay || out[i - 1].kind == kMonth;
    if (flexible && out[i].kind == kLiteral && out[i].literal >= '0' && out[i].literal <= '9') return false;
  }
  return true;
}

int month_number(const uint8_t* s, size_t n) {
  static const char* const names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
                                      "sept", "january", "february", "march", "april", "june", "july", "august",
                                      "september", "october", "november", "december"};
  static const int numbers[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 9, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12};
  char lower[10];
  if (n >= sizeof(lower)) return 0;
  for (size_t i = 0; i < n; i++) lower[i] = static_cast<char>(s[i] | 0x20);
  for (size_t k = 0; k < sizeof(numbers) / sizeof(numbers[0]); k++) {
    if (std::strlen(names[k]) == n && std::memcmp(names[k], lower, n) == 0) return numbers[k];
  }
  return 0;
}

int days_in_month(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) return 29;
  return days[month - 1];
}

bool match_date(const uint8_t* s, size_t n, const DateFormat& format, int& year, int& month, int& day) {
  size_t i = 0;
  year = month = day = 0;
  for (const Token& token : format) {
    switch (token.kind) {
      case kLiteral:
        if (i >= n || s[i] != static_cast<uint8_t>(token.literal)) return false;
        i++;
        break;
      case kDay:
      case kMonth: {
        if (i >= n || !is_digit(s[i])) return false;
        int value = s[i++] - '0';
        if (i < n && is_digit(s[i])) value = value * 10 + (s[i++] - '0');
        (token.kind == kDay ? day : month) = value;
        break;
      }
      case kYear4:
      case kYear2: {
        size_t width = token.kind == kYear4 ? 4 : 2;
        if (i + width > n) return false;
        int value = 0;
        for (size_t k = 0; k < width; k++) {
          if (!is_digit(s[i + k])) return false;
          value = value * 10 + (s[i + k] - '0');
        }
        i += width;
        year = token.kind == kYear4 ? value : (value >= 69 ? 1900 + value : 2000 + value);
        break;
      }
      case kMonthAbbr:
      case kMonthName: {
        size_t start = i;
        while (i < n && is_letter(s[i])) i++;
        size_t length = i - start;
        size_t longest = token.kind == kMonthAbbr ? 4 : 9;
        if (length < 3 || length > longest) return false;
        month = month_number(s + start, length);
        break;
      }
    }
  }
  if (i != n) return false;
  return month >= 1 && month <= 12 && day >= 1 && year >= 1 && day <= days_in_month(year, month);
}

int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
  int64_t y = month <= 2 ? year - 1 : year;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t year_of_era = y - era * 400;
  int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

// ---- numbers: the plain and common forms of src/ingest/numbers.ts with the decimal point ----

struct Decimal {
  bool negative = false;
  char integer[64];
  int integer_length = 0;
  const uint8_t* fraction = nullptr;
  int fraction_length = 0;
};

// Reads `1234.56`, `-1234.56`, `£1,234.50` and `-£1,234`, as parseDecimal's first two paths do. Returns false for
// anything else, including text those paths leave to the general parser, so the caller hands the record back.
bool parse_common(const uint8_t* s, size_t n, Decimal& d) {
  size_t i = 0;
  d.negative = n > 0 && s[0] == '-';
  if (d.negative) i++;
  if (i + 1 < n && s[i] == 0xc2 && s[i + 1] == 0xa3) {
    i += 2;  // £
  } else if (i + 2 < n && s[i] == 0xe2 && s[i + 1] == 0x82 && s[i + 2] == 0xac) {
    i += 3;  // €
  } else if (i < n && s[i] == '$') {
    i++;
  }
  size_t integer_start = i;
  while (i < n && is_digit(s[i])) i++;
  size_t first_run = i - integer_start;
  if (first_run == 0) return false;
  bool grouped = false;
  d.integer_length = 0;
  auto append = [&d](const uint8_t* from, size_t count) {
    if (d.integer_length + count > sizeof(d.integer)) return false;
    std::memcpy(d.integer + d.integer_length, from, count);
    d.integer_length += static_cast<int>(count);
    return true;
  };
  if (!append(s + integer_start, first_run)) return false;
  if (i < n && s[i] == ',') {
    if (first_run > 3) return false;
    grouped = true;
    while (i < n && s[i] == ',') {
      size_t group = i + 1;
      if (group + 3 > n) return false;
      for (size_t k = group; k < group + 3; k++) {
        if (!is_digit(s[k])) return false;
      }
      i = group + 3;
      if (i < n && is_digit(s[i])) return false;
      if (!append(s + group, 3)) return false;
    }
  }
  if (s[integer_start] == '0' && (grouped || first_run > 1)) return false;
  d.fraction = nullptr;
  d.fraction_length = 0;
  if (i < n && s[i] == '.') {
    size_t start = ++i;
    while (i < n && is_digit(s[i])) i++;
    if (i == start) return false;
    d.fraction = s + start;
    d.fraction_length = static_cast<int>(i - start);
  }
  return i == n;
}

// PostgreSQL's binary numeric, as writePlainNumeric in src/ingest/copy-binary-writer.ts writes it.
void write_numeric(Output& out, const Decimal& d) {
  int integer_length = d.integer_length;
  int scale = d.fraction_length;
  int left_pad = (4 - (integer_length % 4)) % 4;
  int total_digits = integer_length + scale;
  int group_count = (total_digits + left_pad + 3) / 4;
  size_t length_at = out.size();
  out.length += 12;
  int weight = (integer_length + left_pad) / 4 - 1;
  int written = 0;
  int pending_zeros = 0;
  bool leading = true;
  for (int group = 0; group < group_count; group++) {
    int value = 0;
    for (int slot = 0; slot < 4; slot++) {
      int k = group * 4 + slot - left_pad;
      int digit = 0;
      if (k >= 0 && k < total_digits) digit = (k < integer_length ? d.integer[k] : d.fraction[k - integer_length]) - '0';
      value = value * 10 + digit;
    }
    if (leading) {
      if (value == 0) {
        weight--;
        continue;
      }
      leading = false;
    }
    if (value == 0) {
      pending_zeros++;
      continue;
    }
    for (; pending_zeros > 0; pending_zeros--) {
      out.i16(0);
      written++;
    }
    out.i16(value);
    written++;
  }
  bool negative = d.negative && written > 0;
  out.put_i32_at(length_at, 8 + 2 * written);
  uint8_t* header = out.data + length_at + 4;
  int32_t fields[4] = {written, written == 0 ? 0 : weight, negative ? 0x4000 : 0, scale};
  for (int k = 0; k < 4; k++) {
    header[2 * k] = static_cast<uint8_t>((fields[k] >> 8) & 0xff);
    header[2 * k + 1] = static_cast<uint8_t>(fields[k] & 0xff);
  }
}

// ---- cells ----

// Counts code points: every byte that does not continue a UTF-8 sequence.
int64_t code_points(const uint8_t* s, size_t n) {
  int64_t count = 0;
  for (size_t i = 0; i < n; i++) count += (s[i] & 0xc0) != 0x80;
  return count;
}

enum Blankness { kNotBlank, kIsBlank, kUnsure };

// JavaScript's trim() also removes Unicode spaces, which this does not decode: a cell of ASCII spaces and other
// non-ASCII bytes only might be blank, and is left to the TypeScript path.
Blankness blankness(const uint8_t* s, size_t n) {
  bool other = false;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c >= 0x80) {
      other = true;
    } else if (!is_ascii_space(c)) {
      return kNotBlank;
    }
  }
  return other ? kUnsure : kIsBlank;
}

struct Plan {
  uint8_t delimiter;
  // Bytes that can end an unquoted cell or open a quoted one: the delimiter, CR, LF and the quote.
  bool special[256] = {};
  int32_t row_length;
  int32_t width;
  int32_t hold_back;
  std::vector<Column> columns;
};

void set_delimiter(Plan& plan, uint8_t delimiter) {
  plan.delimiter = delimiter;
  plan.special[delimiter] = true;
  plan.special[static_cast<uint8_t>('\n')] = true;
  plan.special[static_cast<uint8_t>('\r')] = true;
  plan.special[static_cast<uint8_t>('"')] = true;
  // A NUL byte ends a cell's scan too, so that split_cells can leave its record to the TypeScript path, which rejects it.
  plan.special[0] = true;
}

struct Run {
  size_t consumed = 0;
  int64_t rows = 0;
  int64_t lines = 0;
  int32_t stop = kNeedMore;
  Output out;
};

// Finds the end of the record starting at `pos`: the position after its line break, or 0 when the record is not
// complete in the input. Counts its line breaks, quoted ones included, into `lines`.
size_t record_end(const uint8_t* s, size_t pos, size_t end, const Plan& plan, int64_t& lines) {
  size_t i = pos;
  int64_t breaks = 0;
  bool cell_start = true;
  const uint8_t delimiter = plan.delimiter;
  while (i < end) {
    if (!cell_start) {
      while (i < end && !plan.special[s[i]]) i++;
      if (i >= end) return 0;
    }
    uint8_t c = s[i];
    if (c == '"') {
      if (!cell_start) {
        i++;
        continue;
      }
      i++;
      for (;;) {
        const void* found = std::memchr(s + i, '"', end - i);
        if (found == nullptr) return 0;
        size_t q = static_cast<const uint8_t*>(found) - s;
        for (size_t k = i; k < q; k++) {
          if (s[k] == '\n') breaks++;
          else if (s[k] == '\r') {
            breaks++;
            if (k + 1 < q && s[k + 1] == '\n') k++;
          }
        }
        if (q + 1 >= end) return 0;
        if (s[q + 1] == '"') {
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      cell_start = false;
      continue;
    }
    if (c == delimiter) {
      cell_start = true;
      i++;
      continue;
    }
    if (c == '\n') {
      lines += breaks + 1;
      return i + 1;
    }
    if (c == '\r') {
      if (i + 1 >= end) return 0;
      lines += breaks + 1;
      return s[i + 1] == '\n' ? i + 2 : i + 1;
    }
    cell_start = false;
    i++;
  }
  return 0;
}

// Splits one complete record into cells. Returns false for text after a closing quote, which is rare enough to leave
// to the TypeScript path.
bool split_cells(const uint8_t* s, size_t pos, size_t record_stop, const Plan& plan, std::vector<Cell>& cells) {
  const uint8_t delimiter = plan.delimiter;
  cells.clear();
  size_t i = pos;
  for (;;) {
    Cell cell{i, i, false, false};
    if (i < record_stop && s[i] == '"') {
      cell.quoted = true;
      size_t j = i + 1;
      cell.start = j;
      for (;;) {
        const uint8_t* q = static_cast<const uint8_t*>(std::memchr(s + j, '"', record_stop - j));
        if (q == nullptr) return false;
        size_t at = q - s;
        if (at + 1 < record_stop && s[at + 1] == '"') {
          cell.escaped = true;
          j = at + 2;
          continue;
        }
        cell.end = at;
        i = at + 1;
        break;
      }
      if (std::memchr(s + cell.start, 0, cell.end - cell.start) != nullptr) return false;
      if (i < record_stop && s[i] != delimiter && s[i] != '\n' && s[i] != '\r') return false;
    } else {
      // A quote inside an unquoted cell is ordinary text.
      size_t j = i;
      for (;;) {
        while (j < record_stop && !plan.special[s[j]]) j++;
        if (j < record_stop && s[j] == '"') {
          j++;
          continue;
        }
        break;
      }
      if (j < record_stop && s[j] == 0) return false;
      cell.end = j;
      i = j;
    }
    cells.push_back(cell);
    if (i >= record_stop || s[i] != delimiter) return true;
    i++;
  }
}

void write_text(Output& out, const uint8_t* s, const Cell& cell) {
  size_t length_at = out.size();
  out.i32(0);
  if (!cell.escaped) {
    out.append(s + cell.start, cell.end - cell.start);
  } else {
    for (size_t k = cell.start; k < cell.end; k++) {
      out.u8(s[k]);
      if (s[k] == '"') k++;
    }
  }
  out.put_i32_at(length_at, static_cast<int64_t>(out.size() - length_at - 4));
}

enum Outcome { kWritten, kSkipped, kRejected };

// Writes one record's tuple. A record of blank cells is skipped, as the analysis skips it. A record with a value this
// lane does not read the same way as the TypeScript path is rejected, and nothing of it is written. `lengths` and
// `values` change only for a written record.
Outcome encode_record(const uint8_t* s, const std::vector<Cell>& cells, const Plan& plan, int64_t id, Output& out,
                   std::vector<int64_t>& lengths, std::vector<int64_t>& values, std::vector<int64_t>& row_lengths,
                   std::vector<int64_t>& row_values) {
  bool all_blank = true;
  for (const Cell& cell : cells) {
    Blankness blank = blankness(s + cell.start, cell.end - cell.start);
    if (blank == kUnsure) return kRejected;
    if (blank == kNotBlank) all_blank = false;
  }
  if (all_blank) return kSkipped;
  if (static_cast<int32_t>(cells.size()) != plan.row_length) return kRejected;
  size_t row_start = out.size();
  auto reject = [&out, row_start]() {
    out.truncate(row_start);
    return kRejected;
  };
  out.i16(plan.width + 1);
  out.i32(8);
  out.i64(id);
  for (size_t c = 0; c < cells.size(); c++) {
    const Cell& cell = cells[c];
    const uint8_t* text = s + cell.start;
    size_t n = cell.end - cell.start;
    row_lengths[c] = -1;
    row_values[c] = 0;
    if (blankness(text, n) == kIsBlank) {
      if (static_cast<int32_t>(c) < plan.width) out.i32(-1);
      continue;
    }
    if (static_cast<int32_t>(c) >= plan.width) return reject();
    const Column& column = plan.columns[c];
    // The stored length counts the cell as the TypeScript path reads it, with doubled quotes made single. It is at
    // most the byte count, so only a cell longer in bytes than the longest so far needs counting.
    int64_t length = -1;
    if (static_cast<int64_t>(n) > lengths[c]) length = code_points(text, n);
    if (length >= 0 && cell.escaped) {
      for (size_t k = 0; k + 1 < n; k++) {
        if (text[k] == '"' && text[k + 1] == '"') {
          length--;
          k++;
        }
      }
    }
    row_lengths[c] = length;
    if (column.kind == kText) {
      write_text(out, s, cell);
      continue;
    }
    if (cell.escaped) return reject();
    size_t a = 0;
    size_t b = n;
    while (a < b && is_ascii_space(text[a])) a++;
    while (b > a && is_ascii_space(text[b - 1])) b--;
    const uint8_t* trimmed = text + a;
    size_t length_trimmed = b - a;
    row_values[c] = 1;
    if (column.kind == kInteger || column.kind == kNumber) {
      Decimal d;
      if (!parse_common(trimmed, length_trimmed, d)) return reject();
      if (column.kind == kInteger) {
        if (d.fraction_length > 0 || d.integer_length > 18) return reject();
        int64_t value = 0;
        for (int k = 0; k < d.integer_length; k++) value = value * 10 + (d.integer[k] - '0');
        out.i32(8);
        out.i64(d.negative ? -value : value);
      } else {
        write_numeric(out, d);
      }
      continue;
    }
    if (column.kind == kDate) {
      if (length_trimmed == 0 || !is_digit(trimmed[0])) return reject();
      int year, month, day;
      for (const DateFormat& format : column.check_formats) {
        if (!match_date(trimmed, length_trimmed, format, year, month, day)) return reject();
      }
      if (!match_date(trimmed, length_trimmed, column.value_format, year, month, day)) return reject();
      out.i32(4);
      out.i32(days_from_civil(year, month, day) - 10957);
      continue;
    }
    return reject();
  }
  for (size_t c = 0; c < cells.size(); c++) {
    if (row_lengths[c] > lengths[c]) lengths[c] = row_lengths[c];
    values[c] += row_values[c];
  }
  return kWritten;
}

// `allocate` returns memory for the tuples, given the most they can take.
template <typename Allocate>
Run run_lane(const uint8_t* s, size_t start, size_t end, const Plan& plan, int64_t first_id, std::vector<int64_t>& lengths,
             std::vector<int64_t>& values, Allocate allocate) {
  Run run;
  // The last `hold_back` complete records stay for the TypeScript path, which may read the file's last records as
  // totals or notes. So the lane first finds how many records are complete.
  std::vector<size_t> ends;
  std::vector<int64_t> line_counts;
  size_t pos = start;
  for (;;) {
    int64_t lines = 0;
    size_t stop = record_end(s, pos, end, plan, lines);
    if (stop == 0) break;
    ends.push_back(stop);
    line_counts.push_back(lines);
    pos = stop;
  }
  if (static_cast<int64_t>(ends.size()) <= plan.hold_back) return run;
  size_t usable = ends.size() - static_cast<size_t>(plan.hold_back);
  // A field takes at most 16 bytes more than its cell: a length, and for a number a header and digit groups of at
  // most one byte per digit. A row adds its field count and `_id`.
  run.out.data = allocate((ends[usable - 1] - start) + usable * (14 + 16 * plan.columns.size()));
  if (run.out.data == nullptr) return run;
  std::vector<Cell> cells;
  std::vector<int64_t> row_lengths(plan.columns.size());
  std::vector<int64_t> row_values(plan.columns.size());
  pos = start;
  for (size_t r = 0; r < usable; r++) {
    Outcome outcome = kRejected;
    if (split_cells(s, pos, ends[r], plan, cells)) {
      outcome = encode_record(s, cells, plan, first_id + run.rows, run.out, lengths, values, row_lengths, row_values);
    }
    if (outcome == kRejected) {
      run.stop = kUnhandled;
      break;
    }
    if (outcome == kWritten) run.rows++;
    run.lines += line_counts[r];
    pos = ends[r];
  }
  run.consumed = pos - start;
  return run;
}

// ---- N-API glue ----

#define CHECK(call)                                  \
  do {                                               \
    if ((call) != napi_ok) return throw_error(env);  \
  } while (0)

napi_value throw_error(napi_env env, const char* message = nullptr) {
  const napi_extended_error_info* info = nullptr;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, nullptr, message ? message : (info && info->error_message ? info->error_message : "native lane failed"));
  return nullptr;
}

bool get_int(napi_env env, napi_value object, const char* name, int64_t& out) {
  napi_value value;
  if (napi_get_named_property(env, object, name, &value) != napi_ok) return false;
  return napi_get_value_int64(env, value, &out) == napi_ok;
}

bool get_string(napi_env env, napi_value value, std::string& out) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) return false;
  out.resize(length);
  return napi_get_value_string_utf8(env, value, out.data(), length + 1, &length) == napi_ok;
}

bool get_float64_array(napi_env env, napi_value value, double*& data, size_t& length) {
  napi_typedarray_type type;
  void* raw = nullptr;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, &length, &raw, &buffer, &offset) != napi_ok) return false;
  if (type != napi_float64_array) return false;
  data = static_cast<double*>(raw);
  return true;
}

// Reads the input buffer and the `start` and `end` positions from the first three arguments of a call, checking that
// they lie inside the buffer. Returns false when an exception is pending.
bool read_input(napi_env env, napi_value* argv, const char* call, const uint8_t*& input, size_t& start, size_t& end) {
  void* data = nullptr;
  size_t size = 0;
  int64_t first = 0;
  int64_t last = 0;
  if (napi_get_buffer_info(env, argv[0], &data, &size) != napi_ok || napi_get_value_int64(env, argv[1], &first) != napi_ok ||
      napi_get_value_int64(env, argv[2], &last) != napi_ok) {
    throw_error(env);
    return false;
  }
  if (first < 0 || last < first || static_cast<size_t>(last) > size) {
    std::string message = std::string(call) + ": start and end must lie inside the input";
    napi_throw_error(env, nullptr, message.c_str());
    return false;
  }
  input = static_cast<const uint8_t*>(data);
  start = static_cast<size_t>(first);
  end = static_cast<size_t>(last);
  return true;
}

// encode(input: Buffer, start: number, end: number, plan: object, firstId: number, lengths: Float64Array,
//        values: Float64Array) => { consumed, rows, lines, stop, output: Buffer, outputLength }
napi_value Encode(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 7) return throw_error(env, "encode takes 7 arguments");
  const uint8_t* input = nullptr;
  size_t start = 0;
  size_t end = 0;
  if (!read_input(env, argv, "encode", input, start, end)) return nullptr;
  int64_t first_id = 0;
  CHECK(napi_get_value_int64(env, argv[4], &first_id));

  Plan plan;
  int64_t delimiter = 0, row_length = 0, width = 0, hold_back = 0;
  napi_value plan_object = argv[3];
  if (!get_int(env, plan_object, "delimiter", delimiter) || !get_int(env, plan_object, "rowLength", row_length) ||
      !get_int(env, plan_object, "width", width) || !get_int(env, plan_object, "holdBack", hold_back)) {
    return throw_error(env, "encode: the plan needs delimiter, rowLength, width and holdBack");
  }
  if (delimiter <= 0 || delimiter >= 0x80 || delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
    return throw_error(env, "encode: the delimiter must be one ASCII character other than a quote or a line break");
  }
  set_delimiter(plan, static_cast<uint8_t>(delimiter));
  plan.row_length = static_cast<int32_t>(row_length);
  plan.width = static_cast<int32_t>(width);
  plan.hold_back = static_cast<int32_t>(hold_back);
  napi_value columns;
  uint32_t column_count = 0;
  CHECK(napi_get_named_property(env, plan_object, "columns", &columns));
  CHECK(napi_get_array_length(env, columns, &column_count));
  if (static_cast<int64_t>(column_count) != row_length || width > row_length) {
    return throw_error(env, "encode: the plan needs one column per cell of a row, and no more fields than cells");
  }
  for (uint32_t c = 0; c < column_count; c++) {
    napi_value column_object;
    CHECK(napi_get_element(env, columns, c, &column_object));
    Column column;
    int64_t kind = 0;
    if (!get_int(env, column_object, "kind", kind) || kind < kBlank || kind > kDate) return throw_error(env, "encode: a column has no valid kind");
    column.kind = static_cast<int32_t>(kind);
    if (column.kind == kDate) {
      napi_value formats;
      uint32_t format_count = 0;
      CHECK(napi_get_named_property(env, column_object, "formats", &formats));
      CHECK(napi_get_array_length(env, formats, &format_count));
      if (format_count < 1) return throw_error(env, "encode: a date column needs its formats");
      for (uint32_t f = 0; f < format_count; f++) {
        napi_value format_value;
        std::string format;
        CHECK(napi_get_element(env, formats, f, &format_value));
        if (!get_string(env, format_value, format)) return throw_error(env, "encode: a date format must be a string");
        DateFormat compiled;
        if (!compile_format(format, compiled)) return throw_error(env, "encode: a date format is not one the lane reads");
        if (f == 0) column.value_format = compiled;
        else column.check_formats.push_back(compiled);
      }
    }
    plan.columns.push_back(std::move(column));
  }

  double* length_data = nullptr;
  double* value_data = nullptr;
  size_t length_count = 0, value_count = 0;
  if (!get_float64_array(env, argv[5], length_data, length_count) || !get_float64_array(env, argv[6], value_data, value_count) ||
      length_count != column_count || value_count != column_count) {
    return throw_error(env, "encode: lengths and values must be Float64Arrays with one entry per column");
  }
  std::vector<int64_t> lengths(column_count), values(column_count, 0);
  for (uint32_t c = 0; c < column_count; c++) lengths[c] = static_cast<int64_t>(length_data[c]);

  napi_value output = nullptr;
  auto allocate = [env, &output](size_t bytes) -> uint8_t* {
    void* memory = nullptr;
    if (napi_create_buffer(env, bytes, &memory, &output) != napi_ok) return nullptr;
    return static_cast<uint8_t*>(memory);
  };
  Run run = run_lane(input, start, end, plan, first_id, lengths, values, allocate);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return nullptr;
  if (output == nullptr) CHECK(napi_create_buffer(env, 0, nullptr, &output));
  for (uint32_t c = 0; c < column_count; c++) {
    length_data[c] = static_cast<double>(lengths[c]);
    value_data[c] += static_cast<double>(values[c]);
  }

  napi_value result, consumed, rows, lines, stop, output_length;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int64(env, static_cast<int64_t>(run.consumed), &consumed));
  CHECK(napi_create_int64(env, run.rows, &rows));
  CHECK(napi_create_int64(env, run.lines, &lines));
  CHECK(napi_create_int32(env, run.stop, &stop));
  CHECK(napi_create_int64(env, static_cast<int64_t>(run.out.size()), &output_length));
  CHECK(napi_set_named_property(env, result, "consumed", consumed));
  CHECK(napi_set_named_property(env, result, "rows", rows));
  CHECK(napi_set_named_property(env, result, "lines", lines));
  CHECK(napi_set_named_property(env, result, "stop", stop));
  CHECK(napi_set_named_property(env, result, "output", output));
  CHECK(napi_set_named_property(env, result, "outputLength", output_length));
  return result;
}

// countRecords(input: Buffer, start: number, end: number, delimiter: number, limit: number) => number
// Counts the complete records from `start`, stopping at `limit`.
napi_value CountRecords(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 5) return throw_error(env, "countRecords takes 5 arguments");
  const uint8_t* input = nullptr;
  size_t start = 0;
  size_t end = 0;
  if (!read_input(env, argv, "countRecords", input, start, end)) return nullptr;
  int64_t delimiter = 0;
  int64_t limit = 0;
  CHECK(napi_get_value_int64(env, argv[3], &delimiter));
  CHECK(napi_get_value_int64(env, argv[4], &limit));
  if (delimiter <= 0 || delimiter >= 0x80) return throw_error(env, "countRecords: the delimiter must be one ASCII character");

  Plan plan;
  set_delimiter(plan, static_cast<uint8_t>(delimiter));
  int64_t count = 0;
  size_t pos = start;
  while (count < limit) {
    int64_t lines = 0;
    size_t stop = record_end(input, pos, end, plan, lines);
    if (stop == 0) break;
    count++;
    pos = stop;
  }
  napi_value result;
  CHECK(napi_create_int64(env, count, &result));
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value encode, count_records;
  if (napi_create_function(env, "encode", NAPI_AUTO_LENGTH, Encode, nullptr, &encode) != napi_ok) return nullptr;
  if (napi_set_named_property(env, exports, "encode", encode) != napi_ok) return nullptr;
  if (napi_create_function(env, "countRecords", NAPI_AUTO_LENGTH, CountRecords, nullptr, &count_records) != napi_ok) return nullptr;
  if (napi_set_named_property(env, exports, "countRecords", count_records) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
