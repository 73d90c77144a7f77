/* SPDX-License-Identifier: MIT */
/*
 * Requests that wait for a job (wait: true) are suspended, not parked on a
 * thread: the job's end resumes them. A ticket links the two; one global
 * lock guards the tickets because a job may end after the API has stopped,
 * and then the ticket must no longer reach the freed request.
 */
#include <pthread.h>
#include <stdlib.h>

#include "api_int.h"

struct api_wait {
    struct api_request *req; /* NULL once cancelled */
    struct api_wait *prev, *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct api_wait *waiting; /* tickets whose request is still suspended */

static void
unlink_ticket(struct api_wait *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        waiting = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
}

/* Called once by the engine when the job ends; frees the ticket. */
static void
job_done(void *ctx)
{
    struct api_wait *w = ctx;
    pthread_mutex_lock(&lock);
    if (w->req) {
        unlink_ticket(w);
        MHD_resume_connection(w->req->conn);
    }
    pthread_mutex_unlock(&lock);
    free(w);
}

enum MHD_Result
api_wait_job(struct api_request *req, int64_t job_id,
             enum MHD_Result (*on_resume)(struct api_request *req))
{
    struct of_error err = {0};
    struct api_wait *w = calloc(1, sizeof(*w));
    if (!w)
        return api_reply_problem(req, OF_E(NOMEM), "out of memory");
    w->req = req;
    req->wait_job = job_id;
    req->on_resume = on_resume;
    pthread_mutex_lock(&lock);
    MHD_suspend_connection(req->conn);
    w->next = waiting;
    if (waiting)
        waiting->prev = w;
    waiting = w;
    pthread_mutex_unlock(&lock);
    /* If the job already ended this resumes at once; either way the ticket is the engine's. */
    if (of_engine_job_on_done(req->eng, job_id, job_done, w, &err) < 0) {
        pthread_mutex_lock(&lock);
        unlink_ticket(w);
        MHD_resume_connection(req->conn);
        pthread_mutex_unlock(&lock);
        free(w);
        req->wait_cancelled = 1;
    }
    return MHD_YES;
}

void
api_wait_cancel_all(void)
{
    pthread_mutex_lock(&lock);
    while (waiting) {
        struct api_wait *w = waiting;
        unlink_ticket(w);
        w->req->wait_cancelled = 1;
        MHD_resume_connection(w->req->conn);
        w->req = NULL; /* the engine still holds the ticket and frees it */
    }
    pthread_mutex_unlock(&lock);
}
