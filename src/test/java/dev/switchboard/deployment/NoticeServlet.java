package dev.switchboard.deployment;

import dev.switchboard.server.Switchboard;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * README's in-process pattern in {@link OwnWar}: a servlet of the application that takes a
 * request, (would save it and) pushes it to a room through the server the listener installed.
 */
@WebServlet("/notices")
public class NoticeServlet extends HttpServlet {
    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String notice = new String(request.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Switchboard server = (Switchboard) getServletContext().getAttribute(Switchboard.class.getName());
        server.to(request.getParameter("room")).emit("notice", notice);
        response.setStatus(204);
    }
}
