/* raptorq.h — RaptorQ fountain code (RFC 6330): encoder and decoder.
 *
 * An object of F bytes is split into Z source blocks of K source symbols of T
 * bytes (each block optionally into N sub-blocks, RFC 6330 section 4.4.1); the
 * encoder turns a block into as many encoding symbols as wanted, each named by
 * its (SBN, ESI) payload ID, and a decoder recovers the block from any K or a
 * few more of them. How the object was cut up travels as the 12-byte Object
 * Transmission Information (OTI, sections 3.3.2-3.3.3). Everything here is
 * exactly RFC 6330: repair symbols have ESI K, K+1, ... (older cberner/raptorq
 * builds number them from K'; the interop tests translate, this code does not).
 *
 * Layers: rq_oti_* (parameters and partitioning), rq_plan_* (the symbolic
 * work of solving for the intermediate symbols of a K', reusable across
 * blocks of the same size), rq_encoder_* and rq_decoder_* (the streaming API
 * used by the network layer). A decoder is created with a memory cap and
 * refuses an OTI whose worst case would need more. */
#ifndef CANON_FEC_RAPTORQ_H
#define CANON_FEC_RAPTORQ_H

#include <stddef.h>
#include <stdint.h>

#define RQ_MAX_KPRIME 56403u           /* largest K' of Table 2 */
#define RQ_MAX_F 946270874880ull       /* largest transfer length (section 4.4.1.2) */
#define RQ_MAX_ESI 0xffffffu           /* ESIs are 24 bits */
#define RQ_PAYLOAD_ID_LEN 4
#define RQ_OTI_LEN 12

/* Object Transmission Information. */
struct rq_oti {
	uint64_t f;   /* transfer length in bytes, 1..RQ_MAX_F */
	uint16_t t;   /* symbol size, a multiple of al */
	uint8_t z;    /* number of source blocks */
	uint16_t n;   /* number of sub-blocks per source block */
	uint8_t al;   /* symbol alignment */
};

/* Derived partition of an OTI (section 4.4.1.2). */
struct rq_layout {
	uint32_t kt;            /* ceil(F / T) */
	uint32_t kl, ks, zl;    /* blocks 0..zl-1 have kl symbols, the rest ks */
	uint32_t tl, ts, nl;    /* sub-blocks 0..nl-1 have tl*al bytes per symbol, the rest ts*al */
};

/* Checks an OTI: ranges, T multiple of Al, K <= 56403, sub-symbols >= Al. */
int rq_oti_check(const struct rq_oti *oti);
void rq_oti_serialize(const struct rq_oti *oti, uint8_t out[RQ_OTI_LEN]);
/* Parses and checks 12 OTI bytes; nonzero reserved byte is -CN_EINVAL. */
int rq_oti_parse(const uint8_t in[RQ_OTI_LEN], struct rq_oti *out);
/* The parameters cberner/raptorq's ObjectTransmissionInformation::
 * generate_encoding_parameters picks (Al = 8, sub-symbol 8, T = mtu rounded
 * down to Al, section 4.3 with WS = decoder_memory; with_defaults uses 10 MiB). */
int rq_oti_defaults(uint64_t f, uint16_t mtu, uint64_t decoder_memory, struct rq_oti *out);
/* Partition of a checked OTI. */
void rq_oti_layout(const struct rq_oti *oti, struct rq_layout *out);
/* Number of source symbols of block sbn (0 if sbn >= Z). */
uint32_t rq_block_k(const struct rq_oti *oti, unsigned sbn);

/* K' for K (the smallest Table 2 entry >= K); 0 if K is 0 or too large. */
uint32_t rq_kprime(uint32_t k);

void rq_payload_id_write(uint8_t out[RQ_PAYLOAD_ID_LEN], uint8_t sbn, uint32_t esi);
void rq_payload_id_read(const uint8_t in[RQ_PAYLOAD_ID_LEN], uint8_t *sbn, uint32_t *esi);

/* ---- plans ----------------------------------------------------------------
 * A plan is the precomputed elimination schedule that turns the K' source
 * symbols (ISIs 0..K'-1) of a block into its L intermediate symbols. It depends
 * only on K', so an encoder that codes many blocks or objects of the same size
 * keeps plans in a cache and skips the symbolic work. */
struct rq_plan;
int rq_plan_new(uint32_t kprime, struct rq_plan **out);
void rq_plan_free(struct rq_plan *plan);
size_t rq_plan_bytes(const struct rq_plan *plan);

/* A small cache of plans by K' (not thread-safe; one per thread). */
struct rq_plan_cache;
int rq_plan_cache_new(unsigned max_plans, struct rq_plan_cache **out);
void rq_plan_cache_free(struct rq_plan_cache *cache);
/* The cached plan for K' (created on a miss; owned by the cache). */
int rq_plan_cache_get(struct rq_plan_cache *cache, uint32_t kprime, const struct rq_plan **out);

/* ---- block codec ------------------------------------------------------------
 * The intermediate symbols of one source block. */
struct rq_block;
/* Encodes K source symbols of T bytes (contiguous, k*t bytes). plan may be
 * NULL (computed for this call) or a plan for rq_kprime(k). */
int rq_block_encode(const struct rq_plan *plan, uint32_t k, uint16_t t, const uint8_t *src,
		    struct rq_block **out);
/* Writes the T-byte encoding symbol with RFC 6330 ESI esi. */
int rq_block_symbol(const struct rq_block *blk, uint32_t esi, uint8_t *out);
void rq_block_free(struct rq_block *blk);

/* Decodes one block from n received symbols (esis[i], syms + i*t). On success
 * writes the k*t source bytes to out. -CN_EVERIFY when the symbols do not
 * determine the block (too few or a rank-deficient set): get more, retry. */
int rq_block_decode(uint32_t k, uint16_t t, size_t n, const uint32_t *esis, const uint8_t *syms,
		    uint8_t *out);

/* ---- streaming object encoder ------------------------------------------ */
struct rq_encoder;
/* data must stay valid and unchanged while the encoder lives. cache may be
 * NULL. The encoder keeps the intermediate symbols of one block at a time. */
int rq_encoder_new(const uint8_t *data, const struct rq_oti *oti, struct rq_plan_cache *cache,
		   struct rq_encoder **out);
void rq_encoder_free(struct rq_encoder *enc);
/* Writes packet = payload ID || symbol (4 + T bytes) for (sbn, esi). */
int rq_encoder_packet(struct rq_encoder *enc, uint8_t sbn, uint32_t esi, uint8_t *out);
const struct rq_oti *rq_encoder_oti(const struct rq_encoder *enc);

/* ---- streaming object decoder ------------------------------------------ */
struct rq_decoder;
/* Upper bound of the bytes a decoder for this OTI may allocate. */
int rq_decoder_memory(const struct rq_oti *oti, uint64_t *bytes);
/* -CN_ELIMIT when rq_decoder_memory(oti) exceeds mem_cap. */
int rq_decoder_new(const struct rq_oti *oti, uint64_t mem_cap, struct rq_decoder **out);
void rq_decoder_free(struct rq_decoder *dec);
/* Feeds one packet (payload ID || symbol). Malformed packets (wrong length,
 * SBN >= Z) are -CN_EINVAL and change nothing; duplicates and packets for
 * finished blocks are ignored. A block is decoded as soon as it has K
 * symbols (and retried as more arrive if they did not determine it); a
 * decode attempt uses at most K + 16 of them. -CN_ENOMEM only if the memory
 * cap is exhausted, which rq_decoder_memory() rules out. */
int rq_decoder_push(struct rq_decoder *dec, const uint8_t *pkt, size_t len);
int rq_decoder_complete(const struct rq_decoder *dec);
/* The recovered object (F bytes, owned by the decoder); -CN_ESTATE if not
 * complete. */
int rq_decoder_object(const struct rq_decoder *dec, const uint8_t **data, uint64_t *len);
/* Bytes currently allocated by the decoder (never above its cap). */
uint64_t rq_decoder_allocated(const struct rq_decoder *dec);

#endif
