// polyns-threaded-session: a PAM application with threads, shaped like gdm's
// gdm-session-worker: the main thread runs a GLib main loop, a second thread
// runs its own main context (GDBus's worker thread), and the session is
// opened either from the main loop (the leader) or from a third thread.
//
//   polyns-threaded-session [--from-worker] SERVICE USER [--] CMD...
//
// Prints on stdout, one line each ("ns" is the inode of the thread's
// /proc/thread-self/ns/mnt, "tmp" the inode of its /tmp):
//   threads=N                  threads of the process when the session opens
//   before ns=.. tmp=..        the opening thread, before pam_open_session
//   open=ok | open=failed: TEXT
//   opener ns=.. tmp=..        the opening thread, after it
//   main ns=.. tmp=..          the main-loop thread (with --from-worker)
//   gdbus ns=.. tmp=..         the GDBus-like thread
//   (CMD's output)             CMD, forked by the opening thread and exec'd
//   child=STATUS
//   close=ok | close=failed: TEXT
// Exit status: 0 when the program ran (whatever PAM said), 64 usage, 4 system error.
#include <glib.h>
#include <security/pam_appl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Args {
    bool from_worker = false;
    const char* service = nullptr;
    const char* user = nullptr;
    std::vector<char*> cmd;
};

int silent_conversation(int count, const pam_message** messages, pam_response** responses, void*) {
    if (count <= 0) return PAM_CONV_ERR;
    auto* replies = static_cast<pam_response*>(calloc(static_cast<size_t>(count), sizeof(pam_response)));
    if (replies == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        if (messages[i]->msg_style == PAM_PROMPT_ECHO_OFF || messages[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            free(replies);
            return PAM_CONV_ERR;
        }
    }
    *responses = replies;
    return PAM_SUCCESS;
}

// "LABEL ns=N tmp=N" for the calling thread.
std::string view(const char* label) {
    struct stat ns {}, tmp {};
    ::stat("/proc/thread-self/ns/mnt", &ns);
    ::stat("/tmp", &tmp);
    return std::string(label) + " ns=" + std::to_string(ns.st_ino) + " tmp=" + std::to_string(tmp.st_ino);
}

// Asks the thread running `context` for its view, and waits for the answer.
struct Query {
    GMutex mutex;
    GCond cond;
    bool done = false;
    const char* label = nullptr;
    std::string answer;
};

gboolean answer_query(gpointer data) {
    auto* q = static_cast<Query*>(data);
    std::string v = view(q->label);
    g_mutex_lock(&q->mutex);
    q->answer = v;
    q->done = true;
    g_cond_signal(&q->cond);
    g_mutex_unlock(&q->mutex);
    return G_SOURCE_REMOVE;
}

std::string ask(GMainContext* context, const char* label) {
    Query q;
    g_mutex_init(&q.mutex);
    g_cond_init(&q.cond);
    q.label = label;
    g_main_context_invoke(context, answer_query, &q);
    g_mutex_lock(&q.mutex);
    while (!q.done) g_cond_wait(&q.cond, &q.mutex);
    g_mutex_unlock(&q.mutex);
    g_cond_clear(&q.cond);
    g_mutex_clear(&q.mutex);
    return q.answer;
}

int count_threads() {
    int n = 0;
    if (GDir* dir = g_dir_open("/proc/self/task", 0, nullptr)) {
        while (g_dir_read_name(dir) != nullptr) ++n;
        g_dir_close(dir);
    }
    return n;
}

struct Program {
    Args args;
    GMainContext* main_context = nullptr;
    GMainLoop* main_loop = nullptr;
    GMainContext* gdbus_context = nullptr;
    GMainLoop* gdbus_loop = nullptr;
};

void say(const std::string& line) {
    printf("%s\n", line.c_str());
    fflush(stdout);
}

// The session, as the worker of a display manager runs it: open, fork the
// session's process, wait, close.
void run_session(Program& p) {
    say("threads=" + std::to_string(count_threads()));
    say(view("before"));
    pam_conv conv{silent_conversation, nullptr};
    pam_handle_t* pamh = nullptr;
    int rc = pam_start(p.args.service, p.args.user, &conv, &pamh);
    if (rc != PAM_SUCCESS) {
        say(std::string("open=failed: pam_start: ") + pam_strerror(pamh, rc));
        return;
    }
    rc = pam_open_session(pamh, 0);
    if (rc != PAM_SUCCESS) {
        say(std::string("open=failed: ") + pam_strerror(pamh, rc));
        say(view("opener"));
        pam_end(pamh, rc);
        return;
    }
    say("open=ok");
    say(view("opener"));
    if (p.args.from_worker) say(ask(p.main_context, "main"));
    say(ask(p.gdbus_context, "gdbus"));
    fflush(nullptr);
    pid_t child = fork();
    if (child == 0) {
        execvp(p.args.cmd[0], p.args.cmd.data());
        _exit(127);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) {
        say("child=error");
    } else {
        say("child=" + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
    }
    rc = pam_close_session(pamh, 0);
    say(rc == PAM_SUCCESS ? std::string("close=ok") : std::string("close=failed: ") + pam_strerror(pamh, rc));
    pam_end(pamh, rc);
}

gpointer gdbus_thread(gpointer data) {
    auto* p = static_cast<Program*>(data);
    g_main_context_push_thread_default(p->gdbus_context);
    g_main_loop_run(p->gdbus_loop);
    g_main_context_pop_thread_default(p->gdbus_context);
    return nullptr;
}

gpointer worker_thread(gpointer data) {
    auto* p = static_cast<Program*>(data);
    run_session(*p);
    g_main_loop_quit(p->main_loop);
    return nullptr;
}

gboolean start_session(gpointer data) {
    auto* p = static_cast<Program*>(data);
    if (p->args.from_worker) {
        g_thread_unref(g_thread_new("session-worker", worker_thread, p));
    } else {
        run_session(*p);  // in the main loop, on the leader
        g_main_loop_quit(p->main_loop);
    }
    return G_SOURCE_REMOVE;
}

bool parse(int argc, char** argv, Args& a) {
    int i = 1;
    if (i < argc && strcmp(argv[i], "--from-worker") == 0) {
        a.from_worker = true;
        ++i;
    }
    if (argc - i < 3) return false;
    a.service = argv[i++];
    a.user = argv[i++];
    if (strcmp(argv[i], "--") == 0) ++i;
    if (i >= argc) return false;
    for (; i < argc; ++i) a.cmd.push_back(argv[i]);
    a.cmd.push_back(nullptr);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Program p;
    if (!parse(argc, argv, p.args)) {
        fprintf(stderr, "usage: %s [--from-worker] SERVICE USER [--] CMD...\n", argv[0]);
        return 64;
    }
    p.main_context = g_main_context_default();
    p.main_loop = g_main_loop_new(p.main_context, FALSE);
    p.gdbus_context = g_main_context_new();
    p.gdbus_loop = g_main_loop_new(p.gdbus_context, FALSE);
    GThread* gdbus = g_thread_new("gdbus", gdbus_thread, &p);
    ask(p.gdbus_context, "started");  // its loop runs before anything can quit it
    g_idle_add(start_session, &p);
    g_main_loop_run(p.main_loop);
    g_main_loop_quit(p.gdbus_loop);
    g_thread_join(gdbus);
    g_main_loop_unref(p.gdbus_loop);
    g_main_context_unref(p.gdbus_context);
    g_main_loop_unref(p.main_loop);
    return 0;
}
