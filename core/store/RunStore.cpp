#include "core/store/RunStore.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <ctime>
#include <filesystem>

#include <sqlite3.h>

#include "core/util/Error.h"

namespace omnilab {

namespace {

// Owns a prepared statement; binds by position, steps, reads columns.
class Statement {
public:
    Statement(sqlite3* db, const char* sql, const std::string& file) : db_(db), file_(file)
    {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
            throw Error(file_ + ": " + sqlite3_errmsg(db));
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement& bind(int i, const std::string& v)
    {
        sqlite3_bind_text(stmt_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int i, int64_t v)
    {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    Statement& bind(int i, double v)
    {
        // SQLite turns a NaN into NULL (which the metrics' NOT NULL refuses, ending the run);
        // it is kept as the text "nan" and read back as NaN. ±∞ are stored as REAL.
        if (std::isnan(v))
            sqlite3_bind_text(stmt_, i, "nan", 3, SQLITE_STATIC);
        else
            sqlite3_bind_double(stmt_, i, v);
        return *this;
    }
    bool step()
    {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW)
            return true;
        if (rc == SQLITE_DONE)
            return false;
        throw Error(file_ + ": " + sqlite3_errmsg(db_));
    }
    std::string text(int col) const
    {
        auto* p = sqlite3_column_text(stmt_, col);
        return p ? reinterpret_cast<const char*>(p) : "";
    }
    void reset()
    {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
    double real(int col) const
    {
        if (sqlite3_column_type(stmt_, col) == SQLITE_TEXT)
            return std::numeric_limits<double>::quiet_NaN();
        return sqlite3_column_double(stmt_, col);
    }

private:
    sqlite3* db_;
    const std::string& file_;
    sqlite3_stmt* stmt_ = nullptr;
};

} // namespace

std::string formatTimeNow(const char* pattern, bool utc)
{
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    if (utc)
        gmtime_r(&t, &tm);
    else
        localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, pattern, &tm);
    return buf;
}

std::string isoTimeNow() { return formatTimeNow("%Y-%m-%dT%H:%M:%SZ", true); }

double secondsSinceEpoch()
{
    using namespace std::chrono;
    return duration_cast<duration<double>>(system_clock::now().time_since_epoch()).count();
}

// How long a statement waits for another process's lock on the store: 5 s, or
// OMNILAB_STORE_BUSY_MS (0–600000).
int busyTimeoutMs()
{
    const char* v = std::getenv("OMNILAB_STORE_BUSY_MS");
    if (!v || !*v)
        return 5000;
    char* end = nullptr;
    const long ms = std::strtol(v, &end, 10);
    if (*end != '\0' || ms < 0 || ms > 600000)
        throw Error(std::string("OMNILAB_STORE_BUSY_MS: expected milliseconds from 0 to 600000, got \"") + std::string(v).substr(0, 40) + "\"");
    return static_cast<int>(ms);
}

RunStore::RunStore(const std::string& file, bool readOnly) : file_(file)
{
    if (!readOnly) {
        std::error_code ec;
        auto parent = std::filesystem::path(file).parent_path();
        if (!parent.empty())
            std::filesystem::create_directories(parent, ec);
    } else if (!std::filesystem::exists(file)) {
        throw Error(file + ": no run store here (the file does not exist)");
    }
    auto open = [&](const std::string& name, int flags) {
        flags |= SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI;
        if (sqlite3_open_v2(name.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
            std::string msg = db_ ? sqlite3_errmsg(db_) : "cannot open";
            sqlite3_close(db_);
            db_ = nullptr;
            throw Error(file + ": cannot open run store: " + msg);
        }
        sqlite3_busy_timeout(db_, busyTimeoutMs());
    };
    auto uriOf = [](const std::string& path, const char* query) {
        std::string uri = "file:";
        for (unsigned char c : std::filesystem::absolute(path).string()) {
            if (c == '%' || c == '?' || c == '#' || c < 0x20) {
                char hex[4];
                std::snprintf(hex, sizeof hex, "%%%02X", c);
                uri += hex;
            } else {
                uri += static_cast<char>(c);
            }
        }
        return uri + query;
    };
    open(uriOf(file, ""), readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    try {
        if (!readOnly) {
            exec("PRAGMA journal_mode=WAL");
            exec("PRAGMA synchronous=NORMAL");
            exec("CREATE TABLE IF NOT EXISTS runs ("
                 " id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, dir TEXT NOT NULL,"
                 " config TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT)");
            exec("CREATE TABLE IF NOT EXISTS metrics ("
                 " run_id INTEGER NOT NULL REFERENCES runs(id), task TEXT NOT NULL, split TEXT NOT NULL,"
                 " name TEXT NOT NULL, step INTEGER NOT NULL, value REAL NOT NULL, wall_time REAL NOT NULL)");
            exec("CREATE INDEX IF NOT EXISTS metrics_by_run ON metrics(run_id, split, name, step)");
            exec("CREATE TABLE IF NOT EXISTS events ("
                 " run_id INTEGER NOT NULL REFERENCES runs(id), level TEXT NOT NULL,"
                 " message TEXT NOT NULL, time REAL NOT NULL)");
            exec("CREATE TABLE IF NOT EXISTS commands ("
                 " id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES runs(id), body TEXT NOT NULL,"
                 " state TEXT NOT NULL DEFAULT 'pending', step INTEGER NOT NULL DEFAULT -1, message TEXT NOT NULL DEFAULT '',"
                 " time REAL NOT NULL)");
            exec("CREATE TABLE IF NOT EXISTS interventions ("
                 " run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL, field TEXT NOT NULL,"
                 " old_value TEXT NOT NULL, new_value TEXT NOT NULL, source TEXT NOT NULL, time REAL NOT NULL)");
        }
        // A file that is not a SQLite database fails here, with a message naming it.
        auto check = [&] {
            Statement s(db_, "SELECT count(*) FROM runs", file_);
            s.step();
        };
        try {
            check();
        } catch (const Error&) {
            // A WAL store in a folder this process cannot write has no shared-memory file
            // to open; read it as an immutable file instead (no writer can be seen then).
            const int code = sqlite3_errcode(db_);
            if (!readOnly || (code != SQLITE_CANTOPEN && code != SQLITE_READONLY && code != SQLITE_IOERR))
                throw;
            sqlite3_close(db_);
            db_ = nullptr;
            open(uriOf(file, "?immutable=1"), SQLITE_OPEN_READONLY);
            check();
        }
    } catch (...) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

RunStore::~RunStore() { sqlite3_close(db_); }

void RunStore::exec(const char* sql) const
{
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        fail(msg);
    }
}

void RunStore::fail(const std::string& what) const { throw Error(file_ + ": " + what); }

namespace {
void insertMetrics(sqlite3* db, const std::string& file, const std::vector<MetricRecord>& metrics)
{
    Statement s(db, "INSERT INTO metrics(run_id, task, split, name, step, value, wall_time) VALUES(?, ?, ?, ?, ?, ?, ?)", file);
    for (const auto& m : metrics) {
        s.bind(1, m.run).bind(2, m.task).bind(3, m.split).bind(4, m.name).bind(5, m.step).bind(6, m.value).bind(7, m.wallTime);
        s.step();
        s.reset();
    }
}

// Runs `body` in one transaction: all of its rows or none. IMMEDIATE takes the write lock
// at once, so a busy store fails at the start, naming the file, before any row.
template <typename Body>
void inTransaction(sqlite3* db, const std::string& file, Body body)
{
    char* err = nullptr;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error(file + ": " + msg);
    }
    try {
        body();
        if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
            throw Error(file + ": " + sqlite3_errmsg(db));
    } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}
} // namespace

int64_t RunStore::createRun(const std::string& name, const std::string& dir, const std::string& config)
{
    Statement s(db_, "INSERT INTO runs(name, dir, config, status, started_at) VALUES(?, ?, ?, 'running', ?)", file_);
    s.bind(1, name).bind(2, dir).bind(3, config).bind(4, isoTimeNow()).step();
    return sqlite3_last_insert_rowid(db_);
}

void RunStore::setStatus(int64_t run, const std::string& status)
{
    // Ending a run stamps the time; going back to running (a resume) clears it.
    Statement s(db_, "UPDATE runs SET status = ?, ended_at = CASE WHEN ? = 'running' THEN NULL ELSE ? END WHERE id = ?", file_);
    s.bind(1, status).bind(2, status).bind(3, isoTimeNow()).bind(4, run).step();
}

void RunStore::addMetric(int64_t run, const std::string& task, const std::string& split, const std::string& name, int64_t step, double value)
{
    insertMetrics(db_, file_, {{run, task, split, name, step, value, secondsSinceEpoch()}});
}

void RunStore::addEvent(int64_t run, const std::string& level, const std::string& message)
{
    Statement s(db_, "INSERT INTO events(run_id, level, message, time) VALUES(?, ?, ?, ?)", file_);
    s.bind(1, run).bind(2, level).bind(3, message).bind(4, secondsSinceEpoch()).step();
}

void RunStore::setBusyTimeout(int milliseconds) { sqlite3_busy_timeout(db_, milliseconds); }

void RunStore::write(const std::vector<MetricRecord>& metrics, const std::vector<EventRecord>& events)
{
    if (metrics.empty() && events.empty())
        return;
    inTransaction(db_, file_, [&] {
        insertMetrics(db_, file_, metrics);
        Statement s(db_, "INSERT INTO events(run_id, level, message, time) VALUES(?, ?, ?, ?)", file_);
        for (const auto& e : events) {
            s.bind(1, e.run).bind(2, e.level).bind(3, e.message).bind(4, e.time);
            s.step();
            s.reset();
        }
    });
}

void RunStore::recordEvaluation(const std::vector<MetricRecord>& metrics)
{
    if (metrics.empty())
        return;
    inTransaction(db_, file_, [&] {
        Statement drop(db_, "DELETE FROM metrics WHERE run_id = ? AND task = ? AND split = ? AND step = ?", file_);
        for (const auto& m : metrics) {
            drop.bind(1, m.run).bind(2, m.task).bind(3, m.split).bind(4, m.step);
            drop.step();
            drop.reset();
        }
        insertMetrics(db_, file_, metrics);
    });
}

namespace {
RunRecord readRun(const Statement& s)
{
    RunRecord r;
    r.id = s.integer(0);
    r.name = s.text(1);
    r.dir = s.text(2);
    r.config = s.text(3);
    r.status = s.text(4);
    r.startedAt = s.text(5);
    r.endedAt = s.text(6);
    return r;
}
MetricRecord readMetric(const Statement& s)
{
    MetricRecord m;
    m.run = s.integer(0);
    m.task = s.text(1);
    m.split = s.text(2);
    m.name = s.text(3);
    m.step = s.integer(4);
    m.value = s.real(5);
    m.wallTime = s.real(6);
    return m;
}
} // namespace

std::vector<RunRecord> RunStore::runs() const
{
    Statement s(db_, "SELECT id, name, dir, config, status, started_at, ended_at FROM runs ORDER BY id", file_);
    std::vector<RunRecord> out;
    while (s.step())
        out.push_back(readRun(s));
    return out;
}

std::optional<RunRecord> RunStore::run(int64_t id) const
{
    Statement s(db_, "SELECT id, name, dir, config, status, started_at, ended_at FROM runs WHERE id = ?", file_);
    s.bind(1, id);
    if (!s.step())
        return std::nullopt;
    return readRun(s);
}

std::vector<MetricRecord> RunStore::metrics(int64_t run, const std::string& split, const std::string& name) const
{
    Statement s(db_,
                "SELECT run_id, task, split, name, step, value, wall_time FROM metrics"
                " WHERE run_id = ? AND (? = '' OR split = ?) AND (? = '' OR name = ?) ORDER BY step, rowid",
                file_);
    s.bind(1, run).bind(2, split).bind(3, split).bind(4, name).bind(5, name);
    std::vector<MetricRecord> out;
    while (s.step())
        out.push_back(readMetric(s));
    return out;
}

std::vector<MetricRecord> RunStore::latestMetrics(int64_t run, const std::string& split) const
{
    Statement s(db_,
                "SELECT m.run_id, m.task, m.split, m.name, m.step, m.value, m.wall_time FROM metrics m"
                " WHERE m.run_id = ? AND m.split = ? AND m.rowid = (SELECT n.rowid FROM metrics n WHERE n.run_id = m.run_id"
                " AND n.split = m.split AND n.task = m.task AND n.name = m.name ORDER BY n.step DESC, n.rowid DESC LIMIT 1)"
                " ORDER BY m.task, m.name",
                file_);
    s.bind(1, run).bind(2, split);
    std::vector<MetricRecord> out;
    while (s.step())
        out.push_back(readMetric(s));
    return out;
}

std::vector<EventRecord> RunStore::events(int64_t run) const
{
    Statement s(db_, "SELECT run_id, level, message, time FROM events WHERE run_id = ? ORDER BY rowid", file_);
    s.bind(1, run);
    std::vector<EventRecord> out;
    while (s.step())
        out.push_back({s.integer(0), s.text(1), s.text(2), s.real(3)});
    return out;
}

void RunStore::removeMetricsAfter(int64_t run, int64_t step)
{
    Statement s(db_, "DELETE FROM metrics WHERE run_id = ? AND step > ?", file_);
    s.bind(1, run).bind(2, step).step();
}

void RunStore::deleteRun(int64_t run)
{
    std::vector<std::string> tables{"metrics", "events"};
    for (const char* t : {"commands", "interventions"})
        if (hasTable(t))
            tables.push_back(t);
    inTransaction(db_, file_, [&] {
        for (const auto& t : tables) {
            Statement s(db_, ("DELETE FROM " + t + " WHERE run_id = ?").c_str(), file_);
            s.bind(1, run).step();
        }
        Statement s(db_, "DELETE FROM runs WHERE id = ?", file_);
        s.bind(1, run).step();
    });
}

bool RunStore::hasTable(const char* name) const
{
    Statement s(db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", file_);
    s.bind(1, std::string(name));
    return s.step() && s.integer(0) > 0;
}

int64_t RunStore::queueCommand(int64_t run, const std::string& body)
{
    if (!hasTable("commands"))
        fail("this store cannot take commands (opened read-only, or written by an older version)");
    Statement s(db_, "INSERT INTO commands(run_id, body, time) VALUES(?, ?, ?)", file_);
    s.bind(1, run).bind(2, body).bind(3, secondsSinceEpoch()).step();
    return sqlite3_last_insert_rowid(db_);
}

namespace {
CommandRecord readCommand(const Statement& s)
{
    CommandRecord c;
    c.id = s.integer(0);
    c.run = s.integer(1);
    c.body = s.text(2);
    c.state = s.text(3);
    c.step = s.integer(4);
    c.message = s.text(5);
    c.time = s.real(6);
    return c;
}
} // namespace

std::vector<CommandRecord> RunStore::pendingCommands(int64_t run) const
{
    std::vector<CommandRecord> out;
    if (!hasTable("commands"))
        return out;
    Statement s(db_, "SELECT id, run_id, body, state, step, message, time FROM commands WHERE run_id = ? AND state = 'pending' ORDER BY id", file_);
    s.bind(1, run);
    while (s.step())
        out.push_back(readCommand(s));
    return out;
}

std::optional<CommandRecord> RunStore::command(int64_t id) const
{
    if (!hasTable("commands"))
        return std::nullopt;
    Statement s(db_, "SELECT id, run_id, body, state, step, message, time FROM commands WHERE id = ?", file_);
    s.bind(1, id);
    if (!s.step())
        return std::nullopt;
    return readCommand(s);
}

void RunStore::finishCommand(int64_t id, const std::string& state, int64_t step, const std::string& message)
{
    Statement s(db_, "UPDATE commands SET state = ?, step = ?, message = ? WHERE id = ?", file_);
    s.bind(1, state).bind(2, step).bind(3, message).bind(4, id).step();
}

void RunStore::addInterventions(const std::vector<InterventionRecord>& rows)
{
    if (rows.empty())
        return;
    inTransaction(db_, file_, [&] {
        Statement s(db_, "INSERT INTO interventions(run_id, step, field, old_value, new_value, source, time) VALUES(?, ?, ?, ?, ?, ?, ?)", file_);
        for (const auto& r : rows) {
            s.bind(1, r.run).bind(2, r.step).bind(3, r.field).bind(4, r.from).bind(5, r.to).bind(6, r.source).bind(7, r.time);
            s.step();
            s.reset();
        }
    });
}

std::vector<InterventionRecord> RunStore::interventions(int64_t run) const
{
    std::vector<InterventionRecord> out;
    if (!hasTable("interventions"))
        return out;
    Statement s(db_, "SELECT run_id, step, field, old_value, new_value, source, time FROM interventions WHERE run_id = ? ORDER BY step, rowid", file_);
    s.bind(1, run);
    while (s.step())
        out.push_back({s.integer(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5), s.real(6)});
    return out;
}

int64_t RunStore::lastStep(int64_t run) const
{
    Statement s(db_, "SELECT COALESCE(MAX(step), 0) FROM metrics WHERE run_id = ? AND split = 'train'", file_);
    s.bind(1, run);
    return s.step() ? s.integer(0) : 0;
}

} // namespace omnilab
