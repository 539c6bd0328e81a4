fn main() {
    yew::Renderer::<penpen_web::App>::new().render();
}
