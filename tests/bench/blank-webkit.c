/* The floor for the bundle benchmark: a bare WebKitGTK window showing a blank page, the least
 * memory any app that shows a WebKitGTK webview can use. Built by the benchmark with the same
 * webkit2gtk-4.1 the app links. */
#include <gtk/gtk.h>
#include <webkit2/webkit2.h>

int main(int argc, char **argv) {
    gtk_init(&argc, &argv);
    GtkWidget *window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_default_size(GTK_WINDOW(window), 1280, 800);
    GtkWidget *view = webkit_web_view_new();
    gtk_container_add(GTK_CONTAINER(window), view);
    g_signal_connect(window, "destroy", G_CALLBACK(gtk_main_quit), NULL);
    webkit_web_view_load_uri(WEBKIT_WEB_VIEW(view), "about:blank");
    gtk_widget_show_all(window);
    gtk_main();
    return 0;
}
