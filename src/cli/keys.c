/* keys.c — `canon keys bls ...`: create, import, inspect and use BLS key files.
 *
 * Key files are the encrypted format of crypto/keyfile.h, named
 * <public key hex>.key. Passphrases come from a file (its first line, for
 * scripts and services) or, on a terminal, from a prompt with echo off; with
 * neither there is no passphrase and the command says so rather than guess.
 * Secret keys never reach stdout, stderr or a log. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/flags.h"
#include "chain/chain.h"
#include "cli/cli.h"
#include "crypto/bls.h"
#include "crypto/keyfile.h"

#include <sodium.h>

#define PASS_MAX 1024

/* A passphrase and its length (it may legitimately be empty). */
struct pass {
	char buf[PASS_MAX + 1];
	size_t len;
};

static void pass_wipe(struct pass *p)
{
	bytes_wipe(p, sizeof *p);
}

static void usage_keys(FILE *f)
{
	fprintf(f,
		"usage: canon keys bls <command> [options]\n\n"
		"commands:\n"
		"  new     [--dir D] [--passphrase-file F] [--kdf LEVEL]\n"
		"          create a key from fresh randomness, write D/<pubkey>.key, print the public key\n"
		"  import  --secret-hex HEX|--secret-file F [--dir D] [--passphrase-file F] [--kdf LEVEL]\n"
		"          encrypt an existing 32-byte secret key (big-endian hex) into a key file\n"
		"  show    FILE [--passphrase-file F]\n"
		"          decrypt FILE, check it and print its public key\n"
		"  sign    FILE --message HEX|--message-text S [--passphrase-file F]\n"
		"          print the 96-byte signature of the message in hex\n"
		"  verify  --pubkey HEX --message HEX|--message-text S --signature HEX\n"
		"          exit 0 if the signature is valid, 1 if not\n"
		"  localnet --shard S --index I [--out D] [--pass-file F] [--kdf LEVEL]\n"
		"          write localnet validator I of shard S's well-known test key into a key file\n"
		"          (LEVEL defaults to interactive: these keys are public anyway)\n\n"
		"The passphrase is the first line of --passphrase-file F (trailing newline removed),\n"
		"or is asked for on the terminal. LEVEL is the Argon2id cost of a new file:\n"
		"interactive, moderate (default) or sensitive.\n");
}

/* ---- passphrases ------------------------------------------------------------ */

static int pass_from_file(const char *path, struct pass *p)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "canon keys: cannot open passphrase file %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	/* Unbuffered, so that no copy of the passphrase is left in a stdio
	 * buffer that fclose frees without wiping. */
	setvbuf(f, NULL, _IONBF, 0);
	p->len = 0;
	int c;
	while ((c = fgetc(f)) != EOF && c != '\n') {
		if (p->len == PASS_MAX) {
			fclose(f);
			pass_wipe(p);
			fprintf(stderr, "canon keys: passphrase in %s is longer than %d bytes\n", path,
				PASS_MAX);
			return -1;
		}
		p->buf[p->len++] = (char)c;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		pass_wipe(p);
		fprintf(stderr, "canon keys: cannot read passphrase file %s\n", path);
		return -1;
	}
	/* A file written on Windows ends its line with \r\n. */
	if (p->len && p->buf[p->len - 1] == '\r')
		p->len--;
	p->buf[p->len] = 0;
	return 0;
}

int cli_pass_file(const char *path, char *buf, size_t cap, size_t *len)
{
	struct pass p;
	if (pass_from_file(path, &p) != 0)
		return -1;
	if (p.len >= cap) {
		pass_wipe(&p);
		fprintf(stderr, "canon: passphrase in %s is too long\n", path);
		return -1;
	}
	memcpy(buf, p.buf, p.len + 1);
	*len = p.len;
	pass_wipe(&p);
	return 0;
}

/* The terminal's settings while echo is off, so that Ctrl-C at the prompt
 * does not leave the operator's shell without echo. */
static struct termios saved_tty;

static void restore_tty_and_die(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);   /* async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Reads one line from the terminal on stdin with echo off. */
static int pass_prompt_once(const char *prompt, struct pass *p)
{
	struct termios old, quiet;
	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	fputs(prompt, stderr);
	fflush(stderr);
	saved_tty = old;
	void (*old_int)(int) = signal(SIGINT, restore_tty_and_die);
	void (*old_term)(int) = signal(SIGTERM, restore_tty_and_die);
	void (*old_hup)(int) = signal(SIGHUP, restore_tty_and_die);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
		signal(SIGINT, old_int);
		signal(SIGTERM, old_term);
		signal(SIGHUP, old_hup);
		return -1;
	}
	p->len = 0;
	int ok = 1;
	char c;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		if (p->len == PASS_MAX) {
			ok = 0;
			continue;     /* drain the line; reject it below */
		}
		p->buf[p->len++] = c;
	}
	c = 0;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	signal(SIGINT, old_int);
	signal(SIGTERM, old_term);
	signal(SIGHUP, old_hup);
	if (p->len && p->buf[p->len - 1] == '\r')
		p->len--;
	p->buf[p->len] = 0;
	if (!ok) {
		pass_wipe(p);
		fprintf(stderr, "canon keys: passphrase longer than %d bytes\n", PASS_MAX);
		return -1;
	}
	return 0;
}

int cli_pass_prompt(const char *prompt, char *buf, size_t cap, size_t *len)
{
	struct pass p;
	if (!isatty(STDIN_FILENO) || pass_prompt_once(prompt, &p) != 0)
		return -1;
	if (p.len >= cap) {
		pass_wipe(&p);
		return -1;
	}
	memcpy(buf, p.buf, p.len + 1);
	*len = p.len;
	pass_wipe(&p);
	return 0;
}

/* Gets the passphrase from --passphrase-file or the terminal. A new key's
 * passphrase is asked twice: a typo there would lock the key away. */
static int pass_get(const char *file, int confirm, struct pass *p)
{
	if (file)
		return pass_from_file(file, p);
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "canon keys: no passphrase: give --passphrase-file F "
				"(stdin is not a terminal, so it cannot be asked for)\n");
		return -1;
	}
	if (pass_prompt_once(confirm ? "New passphrase: " : "Passphrase: ", p) != 0) {
		fprintf(stderr, "canon keys: cannot read the passphrase from the terminal\n");
		return -1;
	}
	if (!confirm)
		return 0;
	struct pass again;
	int err = pass_prompt_once("Repeat passphrase: ", &again);
	int same = err == 0 && again.len == p->len && sodium_memcmp(again.buf, p->buf, p->len) == 0;
	pass_wipe(&again);
	if (!same) {
		pass_wipe(p);
		fprintf(stderr, "canon keys: the passphrases do not match\n");
		return -1;
	}
	return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static int parse(struct cn_flag *flags, int argc, char **argv, struct cn_flags_result *res,
		 const char *cmd)
{
	char err[256];
	if (cn_flags_parse(flags, argc, argv, res, err, sizeof err) != 0) {
		fprintf(stderr, "canon keys bls %s: %s\n", cmd, err);
		return 2;
	}
	if (res->help) {
		usage_keys(stdout);
		cn_flags_result_free(res);
		return 0;
	}
	return -1;
}

/* Exactly one of --message HEX and --message-text S. */
static int message_get(const char *hex, const char *text, uint8_t **msg, size_t *len)
{
	if ((hex == NULL) == (text == NULL)) {
		fprintf(stderr, "canon keys bls: give exactly one of --message HEX and --message-text S\n");
		return 2;
	}
	if (text) {
		*len = strlen(text);
		*msg = malloc(*len ? *len : 1);
		if (!*msg)
			return 1;
		memcpy(*msg, text, *len);
		return 0;
	}
	if (hex_decode_alloc(hex, strlen(hex), msg, len) != 0) {
		fprintf(stderr, "canon keys bls: --message is not hex\n");
		return 2;
	}
	return 0;
}

static int hex_exact(const char *what, const char *hex, uint8_t *out, size_t want)
{
	size_t n;
	if (hex_decode(hex, strlen(hex), out, want, &n) != 0 || n != want) {
		fprintf(stderr, "canon keys bls: %s must be %zu bytes of hex\n", what, want);
		return -1;
	}
	return 0;
}

static void print_hex_line(const uint8_t *b, size_t n)
{
	char hex[2 * BLS_SIG_LEN + 1];
	hex_encode(b, n, hex);
	printf("%s\n", hex);
}

static void report_load_error(const char *path, int err, const char *why)
{
	fprintf(stderr, "canon keys bls: %s: %s\n", path, why ? why : cn_strerror(err));
	if (err == -CN_ELIMIT)
		fprintf(stderr, "(key files must use Argon2id costs between libsodium's interactive "
				"and sensitive levels)\n");
}

/* Loads a key file the way a node would, prompting for the passphrase only
 * once the file has passed every check that needs none. Returns 0, or the
 * exit status to fail with. */
static int load_key(const char *path, const char *pass_file, struct bls_secret_key *sk,
		    uint8_t pub[BLS_PK_LEN])
{
	uint8_t buf[KEYFILE_SIZE + 1];
	size_t len;
	struct keyfile_header h;
	const char *why = NULL;
	int err = keyfile_read(path, buf, sizeof buf, &len);
	if (err) {
		fprintf(stderr, "canon keys bls: %s: %s\n", path,
			err == -CN_ENOTFOUND ? "no such key file" : "cannot read the key file");
		return 1;
	}
	err = keyfile_parse(buf, len, &keyfile_policy_default, &h, &why);
	if (err == 0 && keyfile_check_name(path, h.pubkey) != 0) {
		err = -CN_EVERIFY;
		why = "file name does not match the public key in the file "
		      "(key files are named <public key hex>.key)";
	}
	if (err) {
		report_load_error(path, err, why);
		return 1;
	}
	struct pass p;
	if (pass_get(pass_file, 0, &p) != 0)
		return 1;
	err = keyfile_bls_open(buf, len, p.buf, p.len, &keyfile_policy_default, sk, pub, &why);
	pass_wipe(&p);
	if (err) {
		report_load_error(path, err, why);
		return 1;
	}
	return 0;
}

/* ---- commands ------------------------------------------------------------------ */

/* new and import: seal sk into dir and print the public key. */
static int save_key(const struct bls_secret_key *sk, const char *dir, const char *pass_file,
		    const char *kdf_name)
{
	struct keyfile_kdf kdf = keyfile_kdf_moderate;
	if (kdf_name && keyfile_kdf_by_name(kdf_name, &kdf) != 0) {
		fprintf(stderr, "canon keys bls: --kdf must be interactive, moderate or sensitive\n");
		return 2;
	}
	struct pass p;
	if (pass_get(pass_file, 1, &p) != 0)
		return 1;
	char path[4096];
	uint8_t pub[BLS_PK_LEN];
	int err = keyfile_bls_save(dir, sk, p.buf, p.len, &kdf, path, sizeof path, pub);
	pass_wipe(&p);
	if (err) {
		if (err == -CN_EEXIST)
			fprintf(stderr, "canon keys bls: a key file for this key already exists in %s\n",
				dir);
		else if (err == -CN_ENOTFOUND)
			fprintf(stderr, "canon keys bls: no such directory: %s\n", dir);
		else
			fprintf(stderr, "canon keys bls: cannot write the key file in %s: %s\n", dir,
				cn_strerror(err));
		return 1;
	}
	print_hex_line(pub, BLS_PK_LEN);
	fprintf(stderr, "wrote %s\n", path);
	return 0;
}

static int cmd_new(int argc, char **argv)
{
	const char *dir = ".", *pass_file = NULL, *kdf = NULL;
	struct cn_flag flags[] = {
		{"dir", CN_FLAG_STRING, &dir, "D", "directory for the key file (default .)", 0},
		{"passphrase-file", CN_FLAG_STRING, &pass_file, "F", "passphrase: first line of F", 0},
		{"kdf", CN_FLAG_STRING, &kdf, "LEVEL", "interactive|moderate|sensitive", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	int rc = parse(flags, argc, argv, &res, "new");
	if (rc >= 0)
		return rc;
	if (res.n_positional) {
		fprintf(stderr, "canon keys bls new: unexpected argument %s\n", res.positional[0]);
		cn_flags_result_free(&res);
		return 2;
	}
	cn_flags_result_free(&res);

	/* KeyGen's input keying material straight from the OS CSPRNG. */
	uint8_t ikm[32];
	struct bls_secret_key sk;
	randombytes_buf(ikm, sizeof ikm);
	int err = bls_keygen(ikm, sizeof ikm, NULL, 0, &sk);
	bytes_wipe(ikm, sizeof ikm);
	if (err) {
		fprintf(stderr, "canon keys bls new: key generation failed: %s\n", cn_strerror(err));
		return 1;
	}
	rc = save_key(&sk, dir, pass_file, kdf);
	bytes_wipe(&sk, sizeof sk);
	return rc;
}

static int read_secret_file(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "canon keys bls import: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	setvbuf(f, NULL, _IONBF, 0);
	size_t n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = 0;
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		out[--n] = 0;
	return 0;
}

static int cmd_import(int argc, char **argv)
{
	const char *dir = ".", *pass_file = NULL, *kdf = NULL, *secret_hex = NULL, *secret_file = NULL;
	struct cn_flag flags[] = {
		{"secret-hex", CN_FLAG_STRING, &secret_hex, "HEX",
		 "secret key, 32 bytes big-endian (visible to other users via ps; prefer --secret-file)", 0},
		{"secret-file", CN_FLAG_STRING, &secret_file, "F", "file holding the secret key in hex", 0},
		{"dir", CN_FLAG_STRING, &dir, "D", "directory for the key file (default .)", 0},
		{"passphrase-file", CN_FLAG_STRING, &pass_file, "F", "passphrase: first line of F", 0},
		{"kdf", CN_FLAG_STRING, &kdf, "LEVEL", "interactive|moderate|sensitive", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	int rc = parse(flags, argc, argv, &res, "import");
	if (rc >= 0)
		return rc;
	int npos = (int)res.n_positional;
	cn_flags_result_free(&res);
	if (npos || (secret_hex == NULL) == (secret_file == NULL)) {
		fprintf(stderr, "canon keys bls import: give exactly one of --secret-hex HEX and "
				"--secret-file F\n");
		return 2;
	}
	char text[256];
	if (secret_file && read_secret_file(secret_file, text, sizeof text) != 0)
		return 1;
	const char *hex = secret_file ? text : secret_hex;
	uint8_t skb[BLS_SK_LEN];
	size_t n;
	int bad = hex_decode(hex, strlen(hex), skb, sizeof skb, &n) != 0 || n != BLS_SK_LEN;
	bytes_wipe(text, sizeof text);
	/* Blank the secret in our argv too: /proc/<pid>/cmdline shows it for as
	 * long as the process runs (Argon2id takes a while). */
	if (secret_hex)
		bytes_wipe((char *)secret_hex, strlen(secret_hex));
	struct bls_secret_key sk;
	if (bad) {
		bytes_wipe(skb, sizeof skb);
		fprintf(stderr, "canon keys bls import: the secret key must be 32 bytes of hex\n");
		return 2;
	}
	int err = bls_sk_from_bytes(skb, &sk);
	bytes_wipe(skb, sizeof skb);
	if (err) {
		fprintf(stderr, "canon keys bls import: not a valid BLS secret key (0 < key < r)\n");
		return 1;
	}
	rc = save_key(&sk, dir, pass_file, kdf);
	bytes_wipe(&sk, sizeof sk);
	return rc;
}

static int cmd_show(int argc, char **argv)
{
	const char *pass_file = NULL;
	struct cn_flag flags[] = {
		{"passphrase-file", CN_FLAG_STRING, &pass_file, "F", "passphrase: first line of F", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	int rc = parse(flags, argc, argv, &res, "show");
	if (rc >= 0)
		return rc;
	if (res.n_positional != 1) {
		fprintf(stderr, "canon keys bls show: give one key file\n");
		cn_flags_result_free(&res);
		return 2;
	}
	const char *path = res.positional[0];
	struct bls_secret_key sk;
	uint8_t pub[BLS_PK_LEN];
	rc = load_key(path, pass_file, &sk, pub);
	bytes_wipe(&sk, sizeof sk);
	cn_flags_result_free(&res);
	if (rc)
		return rc;
	print_hex_line(pub, BLS_PK_LEN);
	return 0;
}

static int cmd_sign(int argc, char **argv)
{
	const char *pass_file = NULL, *msg_hex = NULL, *msg_text = NULL;
	struct cn_flag flags[] = {
		{"message", CN_FLAG_STRING, &msg_hex, "HEX", "message bytes in hex", 0},
		{"message-text", CN_FLAG_STRING, &msg_text, "S", "message as the bytes of S", 0},
		{"passphrase-file", CN_FLAG_STRING, &pass_file, "F", "passphrase: first line of F", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	int rc = parse(flags, argc, argv, &res, "sign");
	if (rc >= 0)
		return rc;
	if (res.n_positional != 1) {
		fprintf(stderr, "canon keys bls sign: give one key file\n");
		cn_flags_result_free(&res);
		return 2;
	}
	uint8_t *msg = NULL;
	size_t len = 0;
	rc = message_get(msg_hex, msg_text, &msg, &len);
	if (rc) {
		cn_flags_result_free(&res);
		return rc;
	}
	struct bls_secret_key sk;
	uint8_t pub[BLS_PK_LEN];
	rc = load_key(res.positional[0], pass_file, &sk, pub);
	cn_flags_result_free(&res);
	if (rc == 0) {
		struct bls_signature sig;
		uint8_t out[BLS_SIG_LEN];
		bls_sign(&sk, msg, len, &sig);
		bls_sig_to_bytes(&sig, out);
		print_hex_line(out, BLS_SIG_LEN);
	}
	bytes_wipe(&sk, sizeof sk);
	free(msg);
	return rc;
}

static int cmd_verify(int argc, char **argv)
{
	const char *pub_hex = NULL, *sig_hex = NULL, *msg_hex = NULL, *msg_text = NULL;
	struct cn_flag flags[] = {
		{"pubkey", CN_FLAG_STRING, &pub_hex, "HEX", "48-byte compressed public key", 0},
		{"message", CN_FLAG_STRING, &msg_hex, "HEX", "message bytes in hex", 0},
		{"message-text", CN_FLAG_STRING, &msg_text, "S", "message as the bytes of S", 0},
		{"signature", CN_FLAG_STRING, &sig_hex, "HEX", "96-byte compressed signature", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	int rc = parse(flags, argc, argv, &res, "verify");
	if (rc >= 0)
		return rc;
	int npos = (int)res.n_positional;
	cn_flags_result_free(&res);
	if (npos || !pub_hex || !sig_hex) {
		fprintf(stderr, "canon keys bls verify: needs --pubkey, --signature and a message\n");
		return 2;
	}
	uint8_t pubb[BLS_PK_LEN], sigb[BLS_SIG_LEN];
	if (hex_exact("--pubkey", pub_hex, pubb, sizeof pubb) != 0 ||
	    hex_exact("--signature", sig_hex, sigb, sizeof sigb) != 0)
		return 2;
	uint8_t *msg = NULL;
	size_t len = 0;
	rc = message_get(msg_hex, msg_text, &msg, &len);
	if (rc)
		return rc;

	struct bls_public_key pk;
	struct bls_signature sig;
	if (bls_pk_from_bytes(pubb, &pk) != 0) {
		printf("invalid: the public key is not a valid G1 point\n");
		rc = 1;
	} else if (bls_sig_from_bytes(sigb, &sig) != 0) {
		printf("invalid: the signature is not a valid G2 point\n");
		rc = 1;
	} else if (bls_verify(&pk, msg, len, &sig) != 0) {
		printf("invalid: the signature does not verify\n");
		rc = 1;
	} else {
		printf("valid\n");
		rc = 0;
	}
	free(msg);
	return rc;
}

/* The localnet committee keys are derived from public seeds
 * (chain_localnet_bls); scripts that start a localnet need them as key files
 * like any validator's, and this is the one way to get them without
 * printing a secret. */
static int cmd_localnet(int argc, char **argv)
{
	const char *dir = ".", *pass_file = NULL, *kdf = "interactive";
	uint64_t shard = 0, index = 0;
	struct cn_flag flags[] = {
		{"shard", CN_FLAG_UINT, &shard, "S", "shard of the committee", 0},
		{"index", CN_FLAG_UINT, &index, "I", "validator index in the shard's committee", 0},
		{"out", CN_FLAG_STRING, &dir, "D", "directory for the key file (default .)", 0},
		{"pass-file", CN_FLAG_STRING, &pass_file, "F", "passphrase: first line of F", 0},
		{"passphrase-file", CN_FLAG_STRING, &pass_file, "F", "the same as --pass-file", 0},
		{"kdf", CN_FLAG_STRING, &kdf, "LEVEL", "interactive (default)|moderate|sensitive", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	int rc = parse(flags, argc, argv, &res, "localnet");
	if (rc >= 0)
		return rc;
	int npos = (int)res.n_positional;
	cn_flags_result_free(&res);
	if (npos || !flags[0].set || !flags[1].set) {
		fprintf(stderr, "canon keys bls localnet: needs --shard S and --index I\n");
		return 2;
	}
	const struct netparams *np;
	if (netparams_get("localnet", &np) == 0 && shard >= np->num_shards) {
		fprintf(stderr, "canon keys bls localnet: localnet has shards 0..%u\n", np->num_shards - 1);
		return 2;
	}
	if (index >= CHAIN_LOCALNET_VALIDATORS) {
		fprintf(stderr, "canon keys bls localnet: a localnet committee has validators 0..%d\n",
			CHAIN_LOCALNET_VALIDATORS - 1);
		return 2;
	}
	struct bls_secret_key sk;
	int err = chain_localnet_bls((uint32_t)shard, (unsigned)index, &sk);
	if (err) {
		fprintf(stderr, "canon keys bls localnet: %s\n", cn_strerror(err));
		return 1;
	}
	rc = save_key(&sk, dir, pass_file, kdf);
	bytes_wipe(&sk, sizeof sk);
	return rc;
}

int cli_keys(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage_keys(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "p2p"))
		return cli_keys_p2p(argc - 1, argv + 1);
	if (strcmp(argv[1], "bls") != 0) {
		fprintf(stderr, "canon keys: unknown key type '%s' (bls or p2p)\n", argv[1]);
		return 2;
	}
	if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
		usage_keys(argc < 3 ? stderr : stdout);
		return argc < 3 ? 2 : 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "canon keys: libsodium failed to initialise\n");
		return 1;
	}
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} cmds[] = {
		{"new", cmd_new}, {"import", cmd_import}, {"show", cmd_show},
		{"sign", cmd_sign}, {"verify", cmd_verify}, {"localnet", cmd_localnet},
	};
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (!strcmp(argv[2], cmds[i].name))
			return cmds[i].run(argc - 3, argv + 3);
	fprintf(stderr, "canon keys bls: unknown command '%s' (see canon keys bls --help)\n", argv[2]);
	return 2;
}
