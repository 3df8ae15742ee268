using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Runway.Notifications;

/// <summary>Sends a run's summary by email through the operator's SMTP server (<c>Runway:Smtp</c>), one connection per message.</summary>
public sealed class EmailSender(NotifyOptions options)
{
    public bool Configured => options.Smtp.Configured;

    public async Task<DeliveryResult> SendAsync(string to, string subject, string text, CancellationToken cancellationToken)
    {
        var smtp = options.Smtp;
        if (!smtp.Configured)
        {
            return new DeliveryResult(false, Error: "SMTP is not configured (Runway:Smtp:Host): email is not sent", Skipped: true);
        }
        using var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(smtp.From.Length > 0 ? smtp.From : $"runway@{smtp.Host}"));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = text };
        using var client = new SmtpClient { Timeout = 30_000 };
        try
        {
            var security = smtp.Tls switch
            {
                "none" => SecureSocketOptions.None,
                "tls" => SecureSocketOptions.SslOnConnect,
                _ => SecureSocketOptions.StartTls,
            };
            await client.ConnectAsync(smtp.Host, smtp.EffectivePort, security, cancellationToken);
            if (smtp.User.Length > 0)
            {
                await client.AuthenticateAsync(smtp.User, smtp.Password, cancellationToken);
            }
            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
            return new DeliveryResult(true);
        }
        catch (SmtpCommandException e)
        {
            // 5xx refusals of the recipient or message are final; 4xx are worth another try.
            return new DeliveryResult(false, (int)e.StatusCode, $"the SMTP server refused: {e.Message}", Permanent: (int)e.StatusCode >= 500);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException or SmtpProtocolException or AuthenticationException or SslHandshakeException)
        {
            return new DeliveryResult(false, Error: $"SMTP {smtp.Host}:{smtp.EffectivePort}: {e.Message}");
        }
    }
}
