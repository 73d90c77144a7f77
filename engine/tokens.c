/* SPDX-License-Identifier: MIT */
/*
 * API tokens: 32 random bytes shown once as "of_<hex>", stored only as their
 * SHA-256, so a copy of the database gives no usable token.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_int.h"
#include "util.h"

static void
token_hash(const char *token, char *ret_hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
    of_hex(md, n, ret_hex);
}

/* A fresh token into token (OF_TOKEN_MAX) and its hash into hash (OF_HASH_HEX). */
static int
token_make(char *token, char *hash, struct of_error *reterr)
{
    unsigned char rnd[32];
    char hex[65];
    if (of_random(rnd, sizeof(rnd)) < 0)
        return of_error_set(reterr, OF_E(IO), "no randomness for a token");
    of_hex(rnd, sizeof(rnd), hex);
    snprintf(token, OF_TOKEN_MAX, "of_%s", hex);
    token_hash(token, hash);
    return 0;
}

int
of_engine_token_create(struct of_engine *eng, const char *user, int admin, char *ret_token,
                       struct of_error *reterr)
{
    size_t ulen = strlen(user);
    if (ulen == 0 || ulen >= OF_USER_MAX)
        return of_error_set(reterr, OF_E(BAD_FIELD), "a user name has 1 to %d bytes",
                            OF_USER_MAX - 1);
    for (size_t i = 0; i < ulen; i++) {
        unsigned char c = (unsigned char)user[i];
        if (c <= 0x20 || c == 0x7f)
            return of_error_set(reterr, OF_E(BAD_FIELD), "a user name has no spaces or controls");
    }
    char token[OF_TOKEN_MAX], hash[OF_HASH_HEX];
    int rc = token_make(token, hash, reterr);
    if (rc == 0)
        rc = of_store_token_add(eng->store, user, hash, admin, reterr);
    if (rc == 0)
        memcpy(ret_token, token, strlen(token) + 1);
    return rc;
}

static int
cache_find(struct of_engine *eng, const char *hash, struct of_principal *ret_who)
{
    int found = 0;
    pthread_rwlock_rdlock(&eng->tokens_lock);
    for (unsigned i = 0; i < eng->n_tokens && !found; i++) {
        if (strcmp(eng->tokens[i].hash, hash) == 0) {
            *ret_who = eng->tokens[i].who;
            found = 1;
        }
    }
    pthread_rwlock_unlock(&eng->tokens_lock);
    return found;
}

static void
cache_add(struct of_engine *eng, const char *hash, const struct of_principal *who)
{
    pthread_rwlock_wrlock(&eng->tokens_lock);
    struct token_entry *e = &eng->tokens[eng->next_token];
    memcpy(e->hash, hash, OF_HASH_HEX);
    e->who = *who;
    eng->next_token = (eng->next_token + 1) % TOKEN_CACHE_SIZE;
    if (eng->n_tokens < TOKEN_CACHE_SIZE)
        eng->n_tokens++;
    pthread_rwlock_unlock(&eng->tokens_lock);
}

int
of_engine_token_check(struct of_engine *eng, const char *token, struct of_principal *ret_who,
                      struct of_error *reterr)
{
    if (!token || strnlen(token, OF_TOKEN_MAX) >= OF_TOKEN_MAX)
        return of_error_set(reterr, OF_E(UNAUTHORIZED), "the token is not valid");
    char hash[OF_HASH_HEX];
    token_hash(token, hash);
    struct of_principal who;
    if (cache_find(eng, hash, ret_who))
        return 0;
    int rc = of_store_token_find(eng->store, hash, who.user, sizeof(who.user), &who.admin, reterr);
    if (rc == 0) {
        cache_add(eng, hash, &who);
        *ret_who = who;
    }
    return rc;
}

int
of_engine_token_bootstrap(struct of_engine *eng, char *ret_path, size_t cap,
                          struct of_error *reterr)
{
    int64_t count = 0;
    int rc = of_store_token_count(eng->store, &count, reterr);
    if (rc < 0 || count > 0)
        return rc;
    char token[OF_TOKEN_MAX], tmp[2200], path[2200];
    snprintf(path, sizeof(path), "%s/admin.token", eng->data_dir);
    snprintf(tmp, sizeof(tmp), "%s/.admin.token.tmp", eng->data_dir);
    /* Write the file before the row: a crash in between leaves no unknown token. */
    char hash[OF_HASH_HEX];
    rc = token_make(token, hash, reterr);
    if (rc < 0)
        return rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return of_error_set(reterr, OF_E(IO), "cannot write %s: %s", path, strerror(errno));
    size_t len = strlen(token);
    token[len] = '\n';
    int wrc = of_write_all(fd, token, len + 1);
    token[len] = '\0';
    if (wrc == 0 && (fchmod(fd, 0600) < 0 || fsync(fd) < 0))
        wrc = -errno;
    close(fd);
    if (wrc == 0 && rename(tmp, path) < 0)
        wrc = -errno;
    if (wrc < 0) {
        unlink(tmp);
        return of_error_set(reterr, OF_E(IO), "cannot write %s: %s", path, strerror(-wrc));
    }
    of_fsync_dir(eng->data_dir);
    rc = of_store_token_add(eng->store, "admin", hash, 1, reterr);
    if (rc < 0)
        return rc;
    snprintf(ret_path, cap, "%s", path);
    return 1;
}
