/*
 * test-reason.c - reason names from status, diagnostic and report text:
 * the order of the decision (specific text, precise status, generic
 * text, status class, the report's text), the SMTP stage of an "unknown
 * user", folded lines, hostile input
 */
#include "autoconfig.h"
#include "classify-private.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

struct reason_case {
	const char *status, *diagnostic, *text, *want;
};

static const struct reason_case cases[] = {
	/* precise status codes, nothing known in the text */
	{ "5.1.1", "smtp; 550 5.1.1 rejected", NULL, "userunknown" },
	{ "5.1.2", "smtp; 550 5.1.2 bad destination", NULL, "hostunknown" },
	{ "5.2.2", "smtp; 552 5.2.2 sorry", NULL, "mailboxfull" },
	{ "5.3.4", "smtp; 552 5.3.4 no", NULL, "mesgtoobig" },
	{ "5.7.26", "smtp; 550 5.7.26 nope", NULL, "authfailure" },
	{ "5.7.1", "smtp; 550 5.7.1 go away", NULL, "securityerror" },
	{ "5.6.1", "smtp; 550 5.6.1 no", NULL, "contenterror" },
	/* specific text beats a generic status */
	{ "5.0.0", "smtp; 552 mailbox is full", NULL, "mailboxfull" },
	{ "5.7.1", "smtp; 554 5.7.1 Service unavailable; Client host "
	  "[192.0.2.1] blocked using zen.spamhaus.org", NULL, "blocked" },
	{ "5.7.1", "smtp; 550 5.7.1 Relaying denied", NULL, "norelaying" },
	{ "5.0.0", "smtp; 554 5.7.1 Message rejected as spam", NULL,
	  "spamdetected" },
	{ "4.0.0", "smtp; 421 Too many connections from your IP", NULL,
	  "toomanyconn" },
	{ "5.0.0", "smtp; 552 Message size exceeds fixed maximum message size",
	  NULL, "mesgtoobig" },
	{ "5.7.1", "smtp; 550 5.7.1 Email rejected per DMARC policy", NULL,
	  "authfailure" },
	{ "4.4.1", "X-Postfix; connect to mx.example.net[192.0.2.9]:25: "
	  "No route to host", NULL, "networkerror" },
	{ "5.4.4", "X-Postfix; Host or domain name not found. Name service "
	  "error for name=example.net type=A: Host not found", NULL,
	  "hostunknown" },
	/* ... but a precise status is not gainsaid by a generic size word */
	{ "5.2.3", "smtp; 552 5.2.3 Message size exceeds fixed maximum",
	  NULL, "exceedlimit" },
	/* an addressing status wins over "unknown" words, not over a block */
	{ "5.1.1", "smtp; 550 5.1.1 <a@example.net> blocked using "
	  "bl.example.org", NULL, "blocked" },
	/* the stage of an "unknown user" */
	{ "5.0.0", "smtp; 550 User unknown",
	  "said: 550 user unknown (in reply to rcpt to command)",
	  "userunknown" },
	{ "5.0.0", "smtp; 550 User unknown",
	  "said: 550 user unknown (in reply to end of data command)",
	  "filtered" },
	{ "5.0.0", "smtp; 550 Unknown user", "550 unknown user (in reply "
	  "to mail from command)", "rejected" },
	/* the command on a folded line */
	{ "5.0.0", "smtp; 550 No such user", "said: 550 no such user (in "
	  "reply to\n    RCPT TO command)", "userunknown" },
	/* refused at MAIL FROM for no more specific cause */
	{ "5.7.1", "smtp; 550 5.7.1 Access denied",
	  "access denied (in reply to mail from command)", "rejected" },
	/* the status written in the diagnostic when the report has none */
	{ NULL, "ERROR_CODE :550, ERROR_CODE :5.1.1 <a@example.net>... "
	  "User Unknown", NULL, "userunknown" },
	/* ... and when the report's own is only x.0.0 */
	{ "5.0.0", "smtp; 550 5.1.1 <a@example.net>: Recipient address "
	  "rejected: User unknown in virtual mailbox table", NULL,
	  "userunknown" },
	/* a block list's address naming "reputation" is still a block list */
	{ "5.7.1", "smtp; 554 5.7.1 Service unavailable; Client host "
	  "[192.0.2.1] blocked using b.barracudacentral.org; "
	  "http://www.barracudanetworks.com/reputation/?ip=192.0.2.1", NULL,
	  "blocked" },
	/* no diagnostic line: the report's text decides */
	{ NULL, NULL, "the following addresses had delivery problems: "
	  "a@example.net\nmailbox is full", "mailboxfull" },
	{ "4.4.7", NULL, "<a@example.net>... deferred: connection refused "
	  "by mx.example.net.\nmessage could not be delivered for 5 days",
	  "blocked" },
	/* the reporting host's own words, no remote reply quoted */
	{ NULL, NULL, "unknown user: someone@example.net", "userunknown" },
	/* ... a remote reply quoted at no known stage: the filter's */
	{ NULL, "550 unknown user <someone@example.net>", NULL, "filtered" },
	/* a local mailer that failed, whatever its output says */
	{ "5.1.1", "x-unix; procmail: couldn't create \"/var/mail/a\": "
	  "No such user", NULL, "mailererror" },
	/* refused at the greeting for no cause given */
	{ "5.0.0", "smtp; 554 go away", "host mx.example.net said: 554 go "
	  "away (in reply to EHLO command)", "blocked" },
	/* "scanned for viruses" footers name no reason */
	{ "5.2.2", "smtp; 552 5.2.2 This message has been scanned for "
	  "viruses", NULL, "mailboxfull" },
	/* greylisted until the queue gave up: expired, not blocked */
	{ "4.7.1", "smtp; 450 4.7.1 <a@example.net>: Recipient address "
	  "rejected: Greylisted, see http://postgrey.example/", NULL,
	  "expired" },
	/* a suspended account whatever its addressing status */
	{ "5.1.1", "smtp; 550 5.1.1 <a@example.net>: Account suspended",
	  NULL, "suspend" },
	/* the sentence's own language (diagnostics with a status, so that
	   the unknown-user stage rule has nothing to say) */
	{ "5.0.0", "smtp; 550 5.0.0 El buzón del destinatario está lleno",
	  NULL, "mailboxfull" },
	{ "5.0.0", "smtp; 550 5.0.0 Das Postfach des Empfängers ist voll",
	  NULL, "mailboxfull" },
	{ "5.0.0", "smtp; 550 5.0.0 Le domaine n'existe pas", NULL,
	  "hostunknown" },
	{ "5.0.0", "smtp; 550 5.0.0 A mensagem é muito grande", NULL,
	  "mesgtoobig" },
	{ "5.0.0", "smtp; 550 5.0.0 迷惑メールと判定されました", NULL,
	  "spamdetected" },
	{ "5.1.1", "smtp; 550 5.1.1 La cuenta está suspendida", NULL,
	  "suspend" },
	{ "5.0.0", "smtp; 550 5.0.0 Ihre IP-Adresse steht auf einer "
	  "Sperrliste", NULL, "blocked" },
	{ "5.0.0", "smtp; 550 5.0.0 Le délai de remise a expiré", NULL,
	  "expired" },
	{ "5.0.0", "smtp; 550 5.0.0 Message refusé par les règles de "
	  "filtrage du destinataire", NULL, "filtered" },
	{ "5.1.1", "smtp; 550 5.1.1 宛先のメールアドレスは存在しません", NULL,
	  "userunknown" },
	{ "5.0.0", "smtp; 550 5.0.0 El mensaje infringe la política de "
	  "seguridad", NULL, "policyviolation" },
	/* a Sieve reject's explanation */
	{ NULL, "Your message to <a@example.net> was automatically rejected: "
	  "no thanks", NULL, "filtered" },
	{ "5.1.10", "smtp; 550 5.1.10 ann wasn't found at contoso.example",
	  NULL, "userunknown" },
	/* nothing known */
	{ "5.0.0", "smtp; 550 whatever", NULL, "onhold" },
	{ "5.0.0", NULL, NULL, "undefined" },
};

START_TEST(test_cases)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reason_case *c = &cases[i];
		const char *got = reason_find(CLASSIFY_NDR_FAILED, c->status,
					      c->diagnostic, c->text);

		ck_assert_msg(got != NULL && strcmp(got, c->want) == 0,
			      "case %zu (%s): want %s, got %s", i,
			      c->diagnostic != NULL ? c->diagnostic : c->text,
			      c->want, got != NULL ? got : "(null)");
	}
}
END_TEST

START_TEST(test_kinds)
{
	ck_assert_str_eq(reason_find(CLASSIFY_DSN_SUCCESS, "2.0.0", NULL,
				     NULL), "delivered");
	ck_assert_str_eq(reason_find(CLASSIFY_NDR_DELAYED, "4.0.0", NULL,
				     "this is a warning only"), "expired");
	ck_assert_str_eq(reason_find(CLASSIFY_NDR_DELAYED, "4.0.0",
				     "smtp; 452 4.2.2 Mailbox full", NULL),
			 "mailboxfull");
}
END_TEST

START_TEST(test_hostile)
{
	static const char *const statuses[] = {
		"", "5", "5.", "5.1", "5.1.", "x.y.z", "5.1.1.1.1", NULL
	};
	char *big = malloc(1 << 20);

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	memcpy(big + 1000, "5.", 2);
	memcpy(big + 5000, "over quota", 10);
	for (size_t i = 0; statuses[i] != NULL; i++)
		ck_assert_ptr_nonnull(reason_find(CLASSIFY_NDR_FAILED,
						  statuses[i], "x", "y"));
	ck_assert_str_eq(reason_find(CLASSIFY_NDR_FAILED, NULL, big, big),
			 "mailboxfull");
	ck_assert_ptr_nonnull(reason_find(CLASSIFY_NDR_FAILED, NULL, "",
					  ""));
	ck_assert_ptr_nonnull(reason_find(CLASSIFY_NDR_FAILED, NULL,
					  "5.1.1234 9.9.9 5.1.", NULL));
	free(big);
}
END_TEST

static Suite *reason_suite(void)
{
	Suite *s = suite_create("reason");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_cases);
	tcase_add_test(tc, test_kinds);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reason_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
