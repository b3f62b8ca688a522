/*
 * web-i18n.c - the release page's texts and the choice of language
 *
 * The texts are compiled in, one row per text id, one column per
 * language, so a missing translation is a compile error rather than an
 * empty button. Pages escape them like any other text.
 */
#include "autoconfig.h"
#include "web-i18n.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const web_texts[W_COUNT][WEB_LANG_COUNT] = {
	[W_SITE] = {
		"Bounce quarantine",
		"Cuarentena de rebotes" },
	[W_FORBIDDEN_TITLE] = {
		"Link not valid",
		"Enlace no válido" },
	[W_FORBIDDEN_TEXT] = {
		"This link is not valid or has expired. Please use the links in your latest digest.",
		"Este enlace no es válido o ha caducado. Use los enlaces de su último resumen." },
	[W_NOTFOUND_TITLE] = {
		"Not found",
		"No encontrado" },
	[W_NOTFOUND_TEXT] = {
		"There is nothing at this address.",
		"No hay nada en esta dirección." },
	[W_ERROR_TITLE] = {
		"Something went wrong",
		"Algo ha fallado" },
	[W_ERROR_TEXT] = {
		"The page could not be shown just now. Please try again in a few minutes.",
		"No se ha podido mostrar la página. Inténtelo de nuevo en unos minutos." },
	[W_TOO_MANY] = {
		"Too many requests. Please wait a minute and try again.",
		"Demasiadas solicitudes. Espere un minuto e inténtelo de nuevo." },
	[W_TOO_LARGE] = {
		"The request is too large.",
		"La solicitud es demasiado grande." },
	[W_BAD_REQUEST] = {
		"The request is not valid.",
		"La solicitud no es válida." },
	[W_METHOD] = {
		"This method is not allowed here.",
		"Este método no está permitido aquí." },
	[W_UNAUTHORIZED] = {
		"Please sign in.",
		"Inicie sesión." },
	[W_FORGED] = {
		"This form has expired or did not come from this site. Go back, reload the page and try again.",
		"Este formulario ha caducado o no procede de este sitio. Vuelva atrás, recargue la página e inténtelo de nuevo." },
	[W_HOME_TEXT] = {
		"This service holds bounces that arrive in a storm. Use the links in your digest to see them.",
		"Este servicio retiene los rebotes que llegan en oleadas. Use los enlaces de su resumen para verlos." },
	[W_ITEM_TITLE] = {
		"Held bounce",
		"Rebote retenido" },
	[W_ITEM_INTRO] = {
		"A mail server sent this notice to your mailbox during a storm of such notices, so it was held instead of delivered.",
		"Un servidor de correo envió este aviso a su buzón durante una oleada de avisos similares, así que se retuvo en lugar de entregarse." },
	[W_RECEIVED] = {
		"Received",
		"Recibido" },
	[W_MAILBOX] = {
		"Mailbox",
		"Buzón" },
	[W_SENDER] = {
		"Sent by",
		"Enviado por" },
	[W_KIND] = {
		"What it is",
		"Qué es" },
	[W_REPORTING] = {
		"Reporting server",
		"Servidor que informa" },
	[W_STATUS] = {
		"Status code",
		"Código de estado" },
	[W_REASON] = {
		"Reason",
		"Motivo" },
	[W_DIAGNOSTIC] = {
		"Server's message",
		"Mensaje del servidor" },
	[W_ORIGINAL] = {
		"The message it is about",
		"El mensaje al que se refiere" },
	[W_SUBJECT] = {
		"Subject",
		"Asunto" },
	[W_FROM] = {
		"From",
		"De" },
	[W_TO] = {
		"To",
		"Para" },
	[W_DATE] = {
		"Date",
		"Fecha" },
	[W_VERDICT] = {
		"Verdict",
		"Veredicto" },
	[W_EVIDENCE] = {
		"Why",
		"Por qué" },
	[W_V_BACKSCATTER] = {
		"Backscatter",
		"Rebote falso" },
	[W_V_BACKSCATTER_TEXT] = {
		"The original message did not leave through our servers: someone else sent it in your name. You can ignore this notice.",
		"El mensaje original no salió por nuestros servidores: alguien lo envió en su nombre. Puede ignorar este aviso." },
	[W_V_LEGIT] = {
		"Looks legitimate",
		"Parece legítimo" },
	[W_V_LEGIT_TEXT] = {
		"The original message went out through our servers: this is probably a real answer to mail you sent.",
		"El mensaje original salió por nuestros servidores: probablemente es una respuesta real a un correo que usted envió." },
	[W_V_UNKNOWN] = {
		"Unknown",
		"Desconocido" },
	[W_V_UNKNOWN_TEXT] = {
		"We could not tell whether you sent the original message. Release it if you recognise it.",
		"No hemos podido saber si usted envió el mensaje original. Entréguelo si lo reconoce." },
	[W_REPORT] = {
		"The report",
		"El informe" },
	[W_RELEASE] = {
		"Release to my mailbox",
		"Entregar en mi buzón" },
	[W_REQUEST] = {
		"Ask for release",
		"Pedir la entrega" },
	[W_STATE_RELEASED] = {
		"This message has been released to your mailbox.",
		"Este mensaje ya se ha entregado en su buzón." },
	[W_STATE_DELETED] = {
		"This message was deleted.",
		"Este mensaje se eliminó." },
	[W_STATE_EXPIRED] = {
		"This message has expired and is no longer kept.",
		"Este mensaje ha caducado y ya no se conserva." },
	[W_DONE_RELEASED] = {
		"Released: the message is on its way to your mailbox.",
		"Entregado: el mensaje va camino de su buzón." },
	[W_ALREADY] = {
		"Already released: nothing was sent again.",
		"Ya estaba entregado: no se ha enviado de nuevo." },
	[W_NOT_HELD] = {
		"This message is no longer held.",
		"Este mensaje ya no está retenido." },
	[W_RELEASE_FAILED] = {
		"The message could not be released just now; it is still held. Please try again later.",
		"No se ha podido entregar el mensaje ahora; sigue retenido. Inténtelo más tarde." },
	[W_REQUESTED] = {
		"Your request was sent to the postmaster. The message will reach your mailbox once it is approved.",
		"Su petición se ha enviado al administrador de correo. El mensaje llegará a su buzón cuando la apruebe." },
	[W_REQ_PENDING] = {
		"Release requested; waiting for the postmaster.",
		"Entrega solicitada; pendiente del administrador." },
	[W_REQ_REFUSED] = {
		"The postmaster refused to release this message.",
		"El administrador ha rechazado entregar este mensaje." },
	[W_BUSY] = {
		"This message is being released right now; nothing was sent again.",
		"Este mensaje se está entregando en este momento; no se ha enviado de nuevo." },
	[W_IN_DOUBT] = {
		"This message was handed on for delivery, but whether it arrived is not known: it may already be in your mailbox. It will not be sent again on its own; the postmaster can check the mail log for its Message-ID:",
		"Este mensaje se entregó para su envío, pero no se sabe si llegó: puede que ya esté en su buzón. No se enviará de nuevo por sí solo; el administrador puede buscar en el registro de correo su Message-ID:" },
	[W_STATE_RELEASING] = {
		"This message is being released to your mailbox.",
		"Este mensaje se está entregando en su buzón." },
	[W_COUNT_DOUBT] = {
		"In doubt, ask the postmaster",
		"En duda, consulte al administrador" },
	[W_NO_SUBJECT] = {
		"(no subject)",
		"(sin asunto)" },
	[W_KIND_NDR_FAILED] = {
		"Delivery failure notice",
		"Aviso de fallo de entrega" },
	[W_KIND_NDR_DELAYED] = {
		"Delivery delay notice",
		"Aviso de retraso en la entrega" },
	[W_KIND_DSN_SUCCESS] = {
		"Delivery confirmation",
		"Confirmación de entrega" },
	[W_KIND_AUTOREPLY] = {
		"Automatic reply",
		"Respuesta automática" },
	[W_KIND_CHALLENGE] = {
		"Sender verification request",
		"Solicitud de verificación del remitente" },
	[W_KIND_AV_NOTICE] = {
		"Virus warning",
		"Aviso de virus" },
	[W_KIND_OTHER] = {
		"Notice",
		"Aviso" },
	[W_MAILBOX_TITLE] = {
		"Held bounces",
		"Rebotes retenidos" },
	[W_MAILBOX_EMPTY] = {
		"Nothing is held for this mailbox.",
		"No hay nada retenido para este buzón." },
	[W_RELEASE_SELECTED] = {
		"Release selected",
		"Entregar los seleccionados" },
	[W_REQUEST_SELECTED] = {
		"Ask for release of selected",
		"Pedir la entrega de los seleccionados" },
	[W_RELEASE_LEGIT] = {
		"Release all that look legitimate",
		"Entregar todos los que parecen legítimos" },
	[W_NEWER] = {
		"← Newer",
		"← Más recientes" },
	[W_OLDER] = {
		"Older →",
		"Más antiguos →" },
	[W_PAGE] = {
		"Page",
		"Página" },
	[W_DETAILS] = {
		"Details",
		"Detalles" },
	[W_COUNT_RELEASED] = {
		"Released",
		"Entregados" },
	[W_COUNT_REQUESTED] = {
		"Requested",
		"Solicitados" },
	[W_COUNT_SKIPPED] = {
		"Not held any more",
		"Ya no retenidos" },
	[W_COUNT_FAILED] = {
		"Failed, still held",
		"Fallidos, siguen retenidos" },
	[W_NONE_SELECTED] = {
		"Nothing was selected.",
		"No se ha seleccionado nada." },
	[W_SETTINGS_TITLE] = {
		"Digest settings",
		"Ajustes del resumen" },
	[W_DIGEST_Q] = {
		"Send me a digest of held bounces",
		"Enviarme un resumen de los rebotes retenidos" },
	[W_DAILY] = {
		"Every day something was held",
		"Cada día en que se retenga algo" },
	[W_STORMS] = {
		"Only during a storm",
		"Solo durante una oleada" },
	[W_NEVER] = {
		"Never",
		"Nunca" },
	[W_LANG_Q] = {
		"Language",
		"Idioma" },
	[W_LANG_AUTO] = {
		"As my browser",
		"Como mi navegador" },
	[W_SAVE] = {
		"Save",
		"Guardar" },
	[W_SAVED] = {
		"Saved.",
		"Guardado." },
	[W_UNSUB_NOTE] = {
		"To stop receiving digests, choose Never and save.",
		"Para dejar de recibir resúmenes, elija Nunca y guarde." },
	[W_UNSUBSCRIBED] = {
		"You will not receive digests any more.",
		"Ya no recibirá resúmenes." },
	[W_ADMIN_TITLE] = {
		"Release requests",
		"Solicitudes de entrega" },
	[W_ADMIN_EMPTY] = {
		"No pending requests.",
		"No hay solicitudes pendientes." },
	[W_APPROVE] = {
		"Approve and release",
		"Aprobar y entregar" },
	[W_REFUSE] = {
		"Refuse",
		"Rechazar" },
	[W_REQUESTED_AT] = {
		"Requested",
		"Solicitado" },
	[W_APPROVED] = {
		"Approved: the message was released.",
		"Aprobada: el mensaje se ha entregado." },
	[W_REFUSED] = {
		"Refused.",
		"Rechazada." },
	[W_DECIDED_ALREADY] = {
		"That request was already decided.",
		"Esa solicitud ya estaba resuelta." },
	[W_STATS_TITLE] = {
		"Statistics",
		"Estadísticas" },
	[W_STATS_HOURLY] = {
		"Bounces held per hour, last 48 hours",
		"Rebotes retenidos por hora, últimas 48 horas" },
	[W_STATS_DAILY] = {
		"Bounces held per day, last 30 days",
		"Rebotes retenidos por día, últimos 30 días" },
	[W_STATS_STORMS] = {
		"Storms, active and of the last 7 days",
		"Tormentas, activas y de los últimos 7 días" },
	[W_STATS_TOP] = {
		"Most targeted mailboxes, last 30 days",
		"Buzones más afectados, últimos 30 días" },
	[W_STATS_NONE] = {
		"Nothing in this period.",
		"Nada en este periodo." },
	[W_STATS_ACTIVE] = {
		"going on",
		"en curso" },
	[W_STATS_S_HELD] = {
		"held",
		"retenido" },
	[W_STATS_S_RELEASED] = {
		"released",
		"entregado" },
	[W_STATS_S_DELETED] = {
		"deleted",
		"borrado" },
	[W_STATS_S_EXPIRED] = {
		"expired",
		"caducado" },
};

const char *web_text_get(enum web_lang lang, enum web_text id)
{
	if ((unsigned int)lang >= WEB_LANG_COUNT)
		lang = WEB_LANG_EN;
	return web_texts[id][lang];
}

const char *web_lang_code(enum web_lang lang)
{
	return lang == WEB_LANG_ES ? "es" : "en";
}

int web_lang_parse(const char *code)
{
	size_t len = strcspn(code, "-_;, \t");

	if (len == 2 && strncasecmp(code, "es", 2) == 0)
		return WEB_LANG_ES;
	if (len == 2 && strncasecmp(code, "en", 2) == 0)
		return WEB_LANG_EN;
	return -1;
}

/* web_lang_q - the q value after a language range (1000 = q=1) */
static int web_lang_q(const char *p, const char *end)
{
	const char *q = p;

	while ((q = strchr(q, ';')) != NULL && q < end) {
		q++;
		while (*q == ' ' || *q == '\t')
			q++;
		if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
			double v = strtod(q + 2, NULL);

			if (v <= 0)
				return 0;
			return v >= 1 ? 1000 : (int)(v * 1000);
		}
	}
	return 1000;
}

/*
 * web_lang_accept - the highest-q language we speak; on a tie the one
 * listed first. "*" and languages we lack count for nothing.
 */
enum web_lang web_lang_accept(const char *header)
{
	enum web_lang best = WEB_LANG_EN;
	int best_q = 0;
	const char *p = header;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		int lang, q;

		if (end == NULL)
			end = p + strlen(p);
		while (*p == ' ' || *p == '\t')
			p++;
		lang = web_lang_parse(p);
		q = web_lang_q(p, end);
		if (lang >= 0 && q > best_q) {
			best = (enum web_lang)lang;
			best_q = q;
		}
		p = *end == ',' ? end + 1 : NULL;
	}
	return best;
}
