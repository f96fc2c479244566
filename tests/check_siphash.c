/*
 * check_siphash.c -- SipHash-2-4 against the reference vectors of the
 * SipHash paper (key 00..0f, message 00..len-1).
 */
#include "pn_check.h"
#include "pn_internal.h"

START_TEST(test_siphash_reference_vectors)
{
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    /* From the paper's appendix and the reference implementation's table. */
    EXPECT(pni_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
    EXPECT(pni_siphash(key, msg, 1) == 0x74f839c593dc67fdULL);
    EXPECT(pni_siphash(key, msg, 8) == 0x93f5f5799a932462ULL);
    EXPECT(pni_siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
}
END_TEST

START_TEST(test_siphash_key_matters)
{
    uint8_t k1[16] = {0}, k2[16] = {0};
    k2[15] = 1;
    EXPECT(pni_siphash(k1, "abc", 3) != pni_siphash(k2, "abc", 3));
    EXPECT(pni_siphash(k1, "abc", 3) == pni_siphash(k1, "abc", 3));
}
END_TEST

Suite *
siphash_suite(void)
{
    Suite *s = suite_create("siphash");
    TCase *tc = tcase_create("siphash");
    tcase_add_test(tc, test_siphash_reference_vectors);
    tcase_add_test(tc, test_siphash_key_matters);
    suite_add_tcase(s, tc);
    return s;
}
